import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { io as ioClient } from 'socket.io-client'
import { freshPostgresUrl, freshRedisPrefix, once, connected, JWT_SECRET, IP_HASH_SECRET } from '../helper.js'
import { startInstance, startRedis, startRelay, type Instance } from './fixtures/processes.js'
import { chat, token, usersIn } from './fixtures/clients.js'
import { redisModes, type RedisMode } from './fixtures/redis-modes.js'

/**
 * Real processes (dist/src/server.js) on one PostgreSQL and, in turn, one Redis and a Redis
 * Cluster (CONTRACT §12): what crosses between them, what happens on kill -9 and SIGTERM; and
 * outages of Redis and PostgreSQL (single Redis).
 */
const INSTANCE_TTL_MS = 600
// Each test of acrossInstances runs once per Redis mode: twice the .taprc budget of 180 s, and more.
t.setTimeout(600_000)

/** The tests that must hold whatever the Redis: one subtest per mode. */
function acrossInstances (t: Test, mode: RedisMode): void {
  const baseEnv = async (extra: NodeJS.ProcessEnv = {}) => ({
    DATABASE_URL: await freshPostgresUrl(),
    ...await mode.env(),
    JWT_SECRET,
    IP_HASH_SECRET,
    INSTANCE_TTL_MS: String(INSTANCE_TTL_MS),
    LOG_LEVEL: 'info',
    ...extra
  })

  t.test('two processes: chat crosses; kill -9 of one reports its users left within the TTL', async (t) => {
    const env = await baseEnv()
    const [a, b] = await Promise.all([startInstance(t, env), startInstance(t, env)])
    const alice = chat(t, a, 'alice', 'Alice')
    const bob = chat(t, b, 'bob', 'Bob')
    await Promise.all([connected(alice), connected(bob)])
    const room = `R${randomUUID().slice(0, 6)}`
    alice.emit('join_room', room)
    await once(alice, 'joined_room')
    const bothSeen = usersIn(alice, ids => ids.length === 2)
    bob.emit('join_room', room.toLowerCase())
    t.same(await bothSeen, ['alice', 'bob'], 'presence crosses instances')

    const received = once(alice, 'new_message')
    bob.emit('send_message', { room, content: 'hello from b' })
    t.match(await received, { content: 'hello from b', sender: { _id: 'bob', username: 'Bob' } }, 'message crosses instances')

    const left = usersIn(alice, ids => ids.length === 1)
    b.child.kill('SIGKILL')
    t.same(await left, ['alice'], `bob reported gone after instance b was killed (TTL ${INSTANCE_TTL_MS} ms)`)
  })

  const post = async (url: string, body: unknown, bearer?: string) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(body)
    })
    return { status: res.status, body: await res.json() as any }
  }

  t.test('two processes: public-room presence and the per-IP limit hold across; kill -9 frees its slots', async (t) => {
    const env = await baseEnv()
    const [a, b] = await Promise.all([startInstance(t, env), startInstance(t, env)])
    const owner = await post(`${a.url}/api/auth/register`, { username: `own${randomUUID().slice(0, 6)}`, password: 'correct horse battery' })
    const room = await post(`${a.url}/api/public/rooms`, { name: 'study', capacity: 5 }, owner.body.token)
    t.equal(room.status, 201)
    const roomId = room.body.id as string
    const ann = (await post(`${a.url}/api/public/users`, { userName: 'Ann' })).body
    const ben = (await post(`${b.url}/api/public/users`, { userName: 'Ben' })).body
    const open = (instance: Instance) => {
      const socket = ioClient(`${instance.url}/public-room/${roomId}`, { transports: ['websocket'], forceNew: true, reconnection: false })
      t.teardown(() => { socket.disconnect() })
      return socket
    }
    const s1 = open(a)
    await connected(s1)
    s1.emit('join-room', { userId: ann.userId, userName: 'Ann' })
    t.match(await once(s1, 'user-joined'), { userId: ann.userId, currentOccupancy: 1 })
    const s2 = open(b)
    await connected(s2)
    const seenByAnn = once(s1, 'user-joined')
    s2.emit('join-room', { userId: ben.userId, userName: 'Ben' })
    t.match(await seenByAnn, { userId: ben.userId, userName: 'Ben', currentOccupancy: 2 }, 'a join on b reaches a')

    const third = open(a)
    t.match(await once(third, 'error'), { code: 'TOO_MANY_CONNECTIONS' }, 'the third connection of one IP, across two processes, is refused')

    const benLeft = once(s1, 'user-left', 10_000)
    b.child.kill('SIGKILL')
    t.match(await benLeft, { userId: ben.userId, currentOccupancy: 1 }, 'the survivor reports the killed instance\'s user left')
    const again = open(a)
    await connected(again)
    again.emit('join-room', { userId: ben.userId, userName: 'Ben' })
    t.match(await once(again, 'user-joined'), { userId: ben.userId }, 'the dead instance\'s slot is free again')
  })

  t.test('two processes: sync playback crosses; after kill -9 the participant gets its room back on the survivor', async (t) => {
    const env = await baseEnv({ SYNC_RECONNECT_GRACE_MS: '20000' })
    const [a, b] = await Promise.all([startInstance(t, env), startInstance(t, env)])
    const host = await post(`${a.url}/api/auth/register`, { username: `host${randomUUID().slice(0, 6)}`, password: 'correct horse battery' })
    const created = await post(`${a.url}/api/sync/rooms`, { name: 'movie night' }, host.body.token)
    t.equal(created.status, 201)
    const code = created.body.code as string
    const open = (instance: Instance, auth: Record<string, string> = {}) => {
      const socket = ioClient(`${instance.url}/sync`, { transports: ['websocket'], forceNew: true, reconnection: false, auth })
      t.teardown(() => { socket.disconnect() })
      return socket
    }
    const guest = open(a)
    await connected(guest)
    guest.emit('room:join', { roomCode: code, guestName: 'Gus' })
    await once(guest, 'room:state')
    const hostSocket = open(b, { token: host.body.token })
    await connected(hostSocket)
    const joined = once(guest, 'room:participant:joined')
    hostSocket.emit('room:join', { roomCode: code.toLowerCase() })
    const state = await once(hostSocket, 'room:state')
    const participantId = (await joined).participant.id
    t.equal(state.participants.length, 2)

    const played = once(guest, 'playback:state')
    hostSocket.emit('playback:update', { action: 'seek', position: 42 })
    t.match(await played, { position: 42, updatedBy: participantId }, 'playback from b reaches a')

    let churn = 0
    guest.on('room:participant:left', () => { churn++ })
    b.child.kill('SIGKILL')
    const back = open(a, { token: host.body.token })
    await connected(back)
    back.emit('room:join', { roomCode: code })
    const restored = await once(back, 'room:state')
    t.equal(restored.participantId ?? restored.participants.find((p: any) => p.isHost)?.id, participantId, 'same participant')
    t.match(restored.playback, { position: 42 }, 'with the playback it had')
    t.equal(churn, 0, 'the guest saw no left/joined churn')
  })

  t.test('SIGTERM: the other instance reports the users left at once, exit code 0', async (t) => {
    // A long TTL: only the graceful removal can explain a prompt "left".
    const env = await baseEnv({ INSTANCE_TTL_MS: '60000' })
    const [a, b] = await Promise.all([startInstance(t, env), startInstance(t, env)])
    const alice = chat(t, a, 'alice', 'Alice')
    const bob = chat(t, b, 'bob', 'Bob')
    await Promise.all([connected(alice), connected(bob)])
    const room = `S${randomUUID().slice(0, 6)}`
    alice.emit('join_room', room)
    await once(alice, 'joined_room')
    const bothSeen = usersIn(alice, ids => ids.length === 2)
    bob.emit('join_room', room)
    await bothSeen
    const left = usersIn(alice, ids => ids.length === 1)
    b.child.kill('SIGTERM')
    t.same(await left, ['alice'], 'bob left, long before the 60 s TTL')
    t.equal(await b.exited, 0, 'exit code 0')
  })
}

/** Outages of single Redis (one redis-server of the test's own) and of PostgreSQL. */
function outages (t: Test): void {
  const baseEnv = async (extra: NodeJS.ProcessEnv = {}) => ({
    DATABASE_URL: await freshPostgresUrl(),
    REDIS_URL: process.env.REDIS_URL,
    JWT_SECRET,
    IP_HASH_SECRET,
    INSTANCE_TTL_MS: String(INSTANCE_TTL_MS),
    LOG_LEVEL: 'info',
    ...extra
  })
  const post = async (url: string, body: unknown, bearer?: string) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(body)
    })
    return { status: res.status, body: await res.json() as any }
  }

  t.test('Redis outage: 503 on /ready naming redis, prompt errors, recovery without restart', async (t) => {
    const redis = await startRedis(t)
    const env = await baseEnv({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage:' })
    const [a, b] = await Promise.all([startInstance(t, env), startInstance(t, env)])
    t.equal((await fetch(`${a.url}/ready`)).status, 200)
    const early = chat(t, a, 'erin', 'Erin')
    await connected(early)
    // A first answered event: the connection's own setup (which needs Redis) is done.
    early.emit('join_room', 'WARM')
    await once(early, 'joined_room')
    await redis.stop()
    const ready = await fetch(`${a.url}/ready`)
    t.equal(ready.status, 503)
    t.match(await ready.json(), { message: /redis/ })
    t.equal((await fetch(`${a.url}/health`)).status, 200, 'the process stays up')
    const reply = await early.timeout(10_000).emitWithAck('join_room', 'DOWN')
    t.match(reply, { ok: false, error: { code: String } }, 'a socket event that needs Redis answers an error promptly')

    await redis.start()
    for (const instance of [a, b]) {
      let status = 0
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await fetch(`${instance.url}/ready`)).status
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      t.equal(status, 200, 'ready again once Redis is back')
    }
    const alice = chat(t, a, 'alice', 'Alice')
    const bob = chat(t, b, 'bob', 'Bob')
    await Promise.all([connected(alice), connected(bob)])
    alice.emit('join_room', 'BACK')
    t.equal(await once(alice, 'joined_room'), 'BACK', 'socket work succeeds again')
    bob.emit('join_room', 'BACK')
    await once(bob, 'joined_room')
    // The adapter's stream reader resumes on its own; a message may need it to catch up.
    let got: any = null
    for (let i = 0; i < 20 && !got; i++) {
      const next = once(alice, 'new_message', 1_000).catch(() => null)
      bob.emit('send_message', { room: 'BACK', content: `after outage ${i}` })
      got = await next
    }
    t.match(got, { content: /after outage/, sender: { _id: 'bob' } }, 'cross-instance broadcasts work again')
    t.equal(a.child.exitCode, null, 'never exited')
  })

  t.test('PostgreSQL outage: REST answers 503 with the error shape, then recovers', async (t) => {
    const pgUrl = new URL(await freshPostgresUrl())
    const relay = await startRelay(t, { host: pgUrl.hostname, port: Number(pgUrl.port || 5432) })
    const viaRelay = new URL(pgUrl)
    viaRelay.port = String(relay.port)
    const env = await baseEnv({ DATABASE_URL: viaRelay.toString(), REDIS_KEY_PREFIX: freshRedisPrefix() })
    const a = await startInstance(t, env)
    const register = (username: string) => fetch(`${a.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'correct horse battery' })
    })
    t.equal((await register('before')).status, 201)
    const alice = chat(t, a, 'alice', 'Alice')
    await connected(alice)
    const channel = await post(`${a.url}/api/channels`, { name: 'general' }, token('alice', 'Alice'))
    t.equal(channel.status, 201)
    alice.emit('room:join', { roomId: channel.body.channel.id })
    await once(alice, 'user:joined')
    await relay.stop()
    const reply = await alice.timeout(10_000).emitWithAck('message', { roomId: channel.body.channel.id, content: 'stored?', type: 'text' })
    t.match(reply, { ok: false, error: { code: 'INTERNAL_ERROR' } }, 'a socket event that needs SQL answers INTERNAL_ERROR')
    const down = await register('during')
    t.equal(down.status, 503)
    t.match(await down.json(), { code: 'SERVICE_UNAVAILABLE', message: String })
    const ready = await fetch(`${a.url}/ready`)
    t.equal(ready.status, 503)
    t.match(await ready.json(), { message: /database/ })
    await relay.start()
    let status = 0
    for (let i = 0; i < 100 && status !== 201; i++) {
      status = (await register(`after${i}`)).status
      if (status !== 201) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    t.equal(status, 201, 'the pool recovers')
    t.equal(a.child.exitCode, null, 'never exited')
  })
}

for (const mode of redisModes()) {
  if (mode.skip) t.skip(`${mode.name}: ${mode.skip}`, () => {})
  else t.test(mode.name === 'redis' ? 'single Redis' : 'Redis Cluster', async (t) => { acrossInstances(t, mode) })
}
const single = redisModes()[0]
if (single.skip) t.skip(`outages: ${single.skip}`, () => {})
else t.test('outages', async (t) => { outages(t) })
