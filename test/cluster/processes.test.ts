import t from 'tap'
import { randomUUID } from 'node:crypto'
import { io as ioClient, type Socket } from 'socket.io-client'
import { freshPostgresUrl, freshRedisPrefix, servicesSkipReason, once, connected, JWT_SECRET, IP_HASH_SECRET } from '../helper.js'
import { startInstance, startRedis, startRelay, type Instance } from './fixtures/processes.js'
import { hs256, claims } from '../tokens.js'

/**
 * Real processes (dist/src/server.js) on one Redis and one PostgreSQL: what crosses between
 * them, what happens on kill -9 and SIGTERM, and outages of Redis and PostgreSQL.
 */
const skip = servicesSkipReason()
if (skip) {
  t.skip(skip, () => {})
} else {
  const INSTANCE_TTL_MS = 600
  const baseEnv = async (extra: NodeJS.ProcessEnv = {}) => ({
    DATABASE_URL: await freshPostgresUrl(),
    REDIS_URL: process.env.REDIS_URL,
    JWT_SECRET,
    IP_HASH_SECRET,
    INSTANCE_TTL_MS: String(INSTANCE_TTL_MS),
    LOG_LEVEL: 'info',
    ...extra
  })
  const token = (sub: string, name: string) => hs256(claims({ sub, name, username: name, exp: Math.floor(Date.now() / 1000) + 3600 }))
  const chat = (test: { teardown (fn: () => unknown): void }, instance: Instance, sub: string, name: string, opts = {}): Socket => {
    const socket = ioClient(instance.url, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: token(sub, name) }, ...opts })
    test.teardown(() => { socket.disconnect() })
    return socket
  }
  const usersIn = async (socket: Socket, predicate: (ids: string[]) => boolean) => {
    for (;;) {
      const users = await once<Array<{ userId: string }>>(socket, 'users_online', 10_000)
      const ids = users.map(u => u.userId).sort()
      if (predicate(ids)) return ids
    }
  }

  t.test('two processes: chat crosses; kill -9 of one reports its users left within the TTL', async (t) => {
    const env = await baseEnv({ REDIS_KEY_PREFIX: freshRedisPrefix() })
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

  t.test('SIGTERM: the other instance reports the users left at once, exit code 0', async (t) => {
    // A long TTL: only the graceful removal can explain a prompt "left".
    const env = await baseEnv({ REDIS_KEY_PREFIX: freshRedisPrefix(), INSTANCE_TTL_MS: '60000' })
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

  t.test('Redis outage: 503 on /ready naming redis, prompt errors, recovery without restart', async (t) => {
    const redis = await startRedis(t)
    const env = await baseEnv({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage:' })
    const a = await startInstance(t, env)
    t.equal((await fetch(`${a.url}/ready`)).status, 200)
    await redis.stop()
    const ready = await fetch(`${a.url}/ready`)
    t.equal(ready.status, 503)
    t.match(await ready.json(), { message: /redis/ })
    t.equal((await fetch(`${a.url}/health`)).status, 200, 'the process stays up')

    await redis.start()
    let status = 0
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await fetch(`${a.url}/ready`)).status
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    t.equal(status, 200, 'ready again once Redis is back')
    const alice = chat(t, a, 'alice', 'Alice')
    await connected(alice)
    alice.emit('join_room', 'BACK')
    t.equal(await once(alice, 'joined_room'), 'BACK', 'socket work succeeds again')
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
    await relay.stop()
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
