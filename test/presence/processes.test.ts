import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Socket } from 'socket.io-client'
import { connected, freshPostgresUrl, freshRedisPrefix, IP_HASH_SECRET, JWT_SECRET, once, servicesSkipReason } from '../helper.js'
import { startInstance } from '../cluster/fixtures/processes.js'
import { chat } from '../cluster/fixtures/clients.js'

/**
 * Issue #17's proof with real processes (CONTRACT §6): `user:status` reaches the sockets that
 * watch a user, across instances, and after a kill -9 of the watched user's instance; no socket
 * that does not watch the user ever gets one.
 */
const skip = servicesSkipReason()
const INSTANCE_TTL_MS = 600

type Status = { userId: string, status: 'online' | 'offline' }

/** Every `user:status` the socket gets, in order. */
function statuses (socket: Socket): Status[] {
  const seen: Status[] = []
  socket.on('user:status', (status: Status) => { seen.push(status) })
  return seen
}

const watch = (socket: Socket, userIds: string[]) => socket.timeout(10_000).emitWithAck('presence:subscribe', { userIds })

if (skip) {
  t.skip(skip, () => {})
} else {
  t.test('a watcher on A sees a user online through B, and offline after kill -9 of B; nobody else hears of it', async (t) => {
    const env = {
      DATABASE_URL: await freshPostgresUrl(),
      REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: freshRedisPrefix(),
      JWT_SECRET,
      IP_HASH_SECRET,
      INSTANCE_TTL_MS: String(INSTANCE_TTL_MS),
      LOG_LEVEL: 'info'
    }
    // One after the other: two cold starts at once on a busy machine can miss the fixture's deadline.
    const a = await startInstance(t, env)
    const b = await startInstance(t, env)

    // On A: the watcher (star and duo), a bystander watching no one, one watching someone else.
    const watcher = chat(t, a, 'watcher', 'Watcher')
    const bystander = chat(t, a, 'bystander', 'Bystander')
    const elsewhere = chat(t, a, 'elsewhere', 'Elsewhere')
    // On B: one more who watches someone else (it dies with B).
    const onB = chat(t, b, 'onb', 'On B')
    const seen = { watcher: statuses(watcher), bystander: statuses(bystander), elsewhere: statuses(elsewhere), onB: statuses(onB) }
    await Promise.all([watcher, bystander, elsewhere, onB].map(s => connected(s)))
    t.same(await watch(watcher, ['star', 'duo']), { ok: true, statuses: [{ userId: 'star', status: 'offline' }, { userId: 'duo', status: 'offline' }] },
      'statuses in the ack: both offline')
    t.same(await watch(elsewhere, ['ghost']), { ok: true, statuses: [{ userId: 'ghost', status: 'offline' }] })
    t.same(await watch(onB, ['ghost']), { ok: true, statuses: [{ userId: 'ghost', status: 'offline' }] })

    // star connects through B only; duo through both.
    const online = once<Status>(watcher, 'user:status', 10_000)
    const star = chat(t, b, 'star', 'Star')
    await connected(star)
    t.same(await online, { userId: 'star', status: 'online' }, 'star online, seen on A though star connected through B')
    const duoOnline = once<Status>(watcher, 'user:status', 10_000)
    const duoB = chat(t, b, 'duo', 'Duo')
    await connected(duoB)
    t.same(await duoOnline, { userId: 'duo', status: 'online' })
    const duoA = chat(t, a, 'duo', 'Duo')
    await connected(duoA)

    const offline = once<Status>(watcher, 'user:status', INSTANCE_TTL_MS * 20)
    const killedAt = Date.now()
    b.child.kill('SIGKILL')
    t.equal(await b.exited, 'SIGKILL', 'instance B killed (-9)')
    t.same(await offline, { userId: 'star', status: 'offline' }, 'star offline after B died')
    t.comment(`offline seen ${Date.now() - killedAt} ms after the kill (INSTANCE_TTL_MS ${INSTANCE_TTL_MS})`)

    // Anything else would have come with it: round trips on A's sockets, then a few sweeps' time.
    await Promise.all([watcher, bystander, elsewhere].map(s => watch(s, [])))
    await sleep(INSTANCE_TTL_MS * 2)
    t.same(seen.watcher, [{ userId: 'star', status: 'online' }, { userId: 'duo', status: 'online' }, { userId: 'star', status: 'offline' }],
      'the watcher: star online and offline, duo online; duo stays online through A')
    t.same(seen.bystander, [], 'no user:status to a socket that watches no one')
    t.same(seen.elsewhere, [], 'nor to one that watches someone else')
    t.same(seen.onB, [], 'nor to the one on B, while it lived')
    t.same(await watch(bystander, ['star', 'duo']), { ok: true, statuses: [{ userId: 'star', status: 'offline' }, { userId: 'duo', status: 'online' }] },
      'a new watcher reads the same: star offline, duo online')
  })
}
