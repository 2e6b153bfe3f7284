import t from 'tap'
import { randomUUID } from 'node:crypto'
import { freshPostgresUrl, freshRedisPrefix, servicesSkipReason, once, connected, JWT_SECRET, IP_HASH_SECRET } from '../helper.js'
import { logged, startInstance, startRedis } from './fixtures/processes.js'
import { chat, open, post, usersIn } from './fixtures/clients.js'

/**
 * CONTRACT §11 with real processes, each on a redis-server of its own: a Redis that hangs
 * (SIGSTOP) fails requests fast; a Redis restarted empty gets every instance's state written back.
 */
const skip = servicesSkipReason()
if (skip) {
  t.skip(skip, () => {})
} else {
  const INSTANCE_TTL_MS = 900
  // CONTRACT §11: answers within 3 s while Redis hangs; the command timeout is well under it.
  const ANSWER_WITHIN_MS = 3_000
  const env = async (redisUrl: string) => ({
    DATABASE_URL: await freshPostgresUrl(),
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: freshRedisPrefix(),
    REDIS_COMMAND_TIMEOUT_MS: '1000',
    JWT_SECRET,
    IP_HASH_SECRET,
    INSTANCE_TTL_MS: String(INSTANCE_TTL_MS),
    SYNC_RECONNECT_GRACE_MS: '60000'
  })

  t.test('Redis hangs (SIGSTOP): /ready, socket events and REST answer within 3 s; all recovers on SIGCONT', async (t) => {
    const redis = await startRedis(t)
    const a = await startInstance(t, await env(redis.url))
    const erin = chat(t, a, 'erin', 'Erin')
    await connected(erin)
    erin.emit('join_room', 'WARM')
    await once(erin, 'joined_room')
    t.equal((await fetch(`${a.url}/ready`)).status, 200)
    const owner = await post(`${a.url}/api/auth/register`, { username: `own${randomUUID().slice(0, 6)}`, password: 'correct horse battery' })
    const publicRoom = (await post(`${a.url}/api/public/rooms`, { name: 'hung', capacity: 5 }, owner.body.token)).body.id as string

    redis.pause()
    t.teardown(() => { redis.resume() })
    const ready = await fetch(`${a.url}/ready`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) })
    t.equal(ready.status, 503, '/ready answers 503')
    t.match(await ready.json(), { code: 'SERVICE_UNAVAILABLE', message: /redis/ })
    const reply = await erin.timeout(ANSWER_WITHIN_MS).emitWithAck('join_room', 'HUNG')
    t.match(reply, { ok: false, error: { code: String } }, 'a socket event answers its error')
    // Presence lives in Redis: the room's participants cannot be listed.
    const rest = await fetch(`${a.url}/api/public/rooms/${publicRoom}/participants`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) })
    t.equal(rest.status, 503, 'a REST route that needs Redis answers 503')
    t.match(await rest.json(), { code: 'SERVICE_UNAVAILABLE' })

    redis.resume()
    let status = 0
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await fetch(`${a.url}/ready`)).status
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    t.equal(status, 200, 'ready again')
    t.equal(await (await erin.timeout(5_000).emitWithAck('join_room', 'BACK')).ok, true, 'socket work succeeds again')
    t.equal(a.child.exitCode, null, 'never exited')
  })

  t.test('Redis restarted empty: presence, the per-IP cap and sync state are written back by both instances', async (t) => {
    const redis = await startRedis(t)
    const shared = await env(redis.url)
    const [a, b] = await Promise.all([startInstance(t, shared), startInstance(t, shared)])

    // Chat presence: alice on a, bob on b, in one room.
    const alice = chat(t, a, 'alice', 'Alice')
    const bob = chat(t, b, 'bob', 'Bob')
    await Promise.all([connected(alice), connected(bob)])
    const room = `R${randomUUID().slice(0, 6)}`
    alice.emit('join_room', room)
    await once(alice, 'joined_room')
    const both = usersIn(alice, ids => ids.length === 2)
    bob.emit('join_room', room)
    await both

    // A public room: one socket on each instance from this one IP, the cap (2) reached.
    const owner = await post(`${a.url}/api/auth/register`, { username: `own${randomUUID().slice(0, 6)}`, password: 'correct horse battery' })
    const publicRoom = (await post(`${a.url}/api/public/rooms`, { name: 'study', capacity: 5 }, owner.body.token)).body.id as string
    const participants = async () => (await (await fetch(`${a.url}/api/public/rooms/${publicRoom}/participants`)).json() as any).currentOccupancy
    for (const [instance, name] of [[a, 'Ann'], [b, 'Ben']] as const) {
      const user = (await post(`${instance.url}/api/public/users`, { userName: name })).body
      const socket = open(t, instance, `/public-room/${publicRoom}`)
      await connected(socket)
      socket.emit('join-room', { userId: user.userId, userName: name })
      await once(socket, 'user-joined')
    }
    t.equal(await participants(), 2)

    // A sync room: a guest on a, the host on b, playback at 42.
    const code = (await post(`${a.url}/api/sync/rooms`, { name: 'movie night' }, owner.body.token)).body.code as string
    const guest = open(t, a, '/sync')
    await connected(guest)
    guest.emit('room:join', { roomCode: code, guestName: 'Gus' })
    await once(guest, 'room:state')
    const host = open(t, b, '/sync', { token: owner.body.token })
    await connected(host)
    host.emit('room:join', { roomCode: code })
    await once(host, 'room:state')
    const played = once(guest, 'playback:state')
    host.emit('playback:update', { action: 'seek', position: 42 })
    await played

    await redis.stop()
    await redis.start()
    await Promise.all([a, b].map((instance) => logged(instance, 'wrote back what this instance holds')))

    const carol = chat(t, a, 'carol', 'Carol')
    await connected(carol)
    const seen = usersIn(carol, ids => ids.includes('carol'))
    carol.emit('join_room', room)
    t.same(await seen, ['alice', 'bob', 'carol'], 'chat presence of both instances is back')
    t.equal(await participants(), 2, 'public-room occupancy is back')
    const third = open(t, b, `/public-room/${publicRoom}`)
    t.match(await once(third, 'error'), { code: 'TOO_MANY_CONNECTIONS' }, 'the per-IP cap holds again')
    const late = open(t, a, '/sync')
    await connected(late)
    late.emit('room:join', { roomCode: code, guestName: 'Liz' })
    const state = await once(late, 'room:state')
    t.equal(state.participants.length, 3, 'the sync room has its two participants back, plus the new one')
    t.match(state.playback, { position: 42 }, 'with its playback')
  })
}
