import t from 'tap'
import type { Socket } from 'socket.io-client'
import { connected, freshPostgresUrl, IP_HASH_SECRET, JWT_SECRET, once } from '../helper.js'
import { startInstance, type Instance } from '../cluster/fixtures/processes.js'
import { chat } from '../cluster/fixtures/clients.js'
import { redisModes } from '../cluster/fixtures/redis-modes.js'

/**
 * CONTRACT §6 and §12 with real processes: a `user:status` goes only to the instances that hold
 * the user's watchers. Three instances share the state: the watcher is on A, the watched user
 * connects through B, and C holds sockets that watch no one. C's adapter receives nothing from
 * Redis while the user comes and goes (roomwire_adapter_messages_received_total), on single
 * Redis and on a Redis Cluster.
 */
t.setTimeout(360_000)

type Status = { userId: string, status: 'online' | 'offline' }

/** What an instance's adapter received from Redis so far, both channel kinds. */
async function received (instance: Instance): Promise<{ room: number, namespace: number }> {
  const text = await (await fetch(`${instance.url}/metrics`)).text()
  const read = (channel: string) => Number(new RegExp(`^roomwire_adapter_messages_received_total\\{channel="${channel}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN)
  return { room: read('room'), namespace: read('namespace') }
}

const watch = (socket: Socket, userIds: string[]) => socket.timeout(10_000).emitWithAck('presence:subscribe', { userIds })

for (const mode of redisModes()) {
  if (mode.skip) {
    t.skip(`${mode.name}: ${mode.skip}`, () => {})
    continue
  }
  t.test(`${mode.name}: a status reaches the watcher's instance, and no instance without watchers`, async (t) => {
    const env = { DATABASE_URL: await freshPostgresUrl(), ...(await mode.env()), JWT_SECRET, IP_HASH_SECRET, LOG_LEVEL: 'info' }
    // One after the other: cold starts at once on a busy machine can miss the fixture's deadline.
    const a = await startInstance(t, env)
    const b = await startInstance(t, env)
    const c = await startInstance(t, env)

    const watcher = chat(t, a, 'watcher', 'Watcher')
    const idle = [chat(t, c, 'idle-1', 'Idle 1'), chat(t, c, 'idle-2', 'Idle 2')]
    const seen: Status[] = []
    watcher.on('user:status', (s: Status) => { seen.push(s) })
    const heard: Status[] = []
    for (const s of idle) s.on('user:status', (st: Status) => { heard.push(st) })
    await Promise.all([watcher, ...idle].map(s => connected(s)))
    t.same(await watch(watcher, ['star']), { ok: true, statuses: [{ userId: 'star', status: 'offline' }] })
    t.same(await watch(idle[0], []), { ok: true, statuses: [] }, 'a socket on C that watches no one')

    const before = await received(c)
    t.ok(Number.isFinite(before.namespace) && Number.isFinite(before.room), `C's adapter counters read (${JSON.stringify(before)})`)
    for (let round = 1; round <= 3; round++) {
      const online = once<Status>(watcher, 'user:status', 10_000)
      const star = chat(t, b, 'star', 'Star')
      await connected(star)
      t.same(await online, { userId: 'star', status: 'online' }, `round ${round}: online on A, star connected through B`)
      const offline = once<Status>(watcher, 'user:status', 10_000)
      star.disconnect()
      t.same(await offline, { userId: 'star', status: 'offline' }, `round ${round}: offline on A`)
    }
    // A round trip on C's sockets: anything sent to C before it would have arrived by now.
    await Promise.all(idle.map(s => watch(s, [])))
    const after = await received(c)
    t.same(after, before, `C, with no watcher of star, received nothing from Redis over 6 status changes (${JSON.stringify(after)})`)
    t.same(heard, [], "no user:status reached C's sockets")
    t.equal(seen.length, 6, 'the watcher got each change once')
  })
}
