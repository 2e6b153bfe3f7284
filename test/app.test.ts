import t from 'tap'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { ClosableSessionAwareAdapter } from '../src/socket/workarounds.js'
import { buildTestApp, connect, connected, registerUser, modes, servicesSkipReason, sharedPglite, JWT_SECRET, IP_HASH_SECRET } from './helper.js'
import { badTokens, claims, hs256 } from './tokens.js'
import { realtime, buildApp } from '../src/app.js'
import { loadConfig, ConfigError } from '../src/config.js'

for (const mode of modes()) {
  t.test(`${mode}: health, ready and auth`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })

    const health = await app.inject('/health')
    t.equal(health.statusCode, 200)
    const ready = await app.inject('/ready')
    t.equal(ready.statusCode, 200, ready.body)
    t.equal(ready.json().checks.database.kind, mode === 'embedded' ? 'pglite' : 'postgres')
    t.equal(ready.json().checks.store.kind, mode === 'embedded' ? 'memory' : 'redis')

    const { token, user } = await registerUser(app, `ada${mode}`, 'Ada Lovelace')
    t.match(user, { username: `ada${mode}`, displayName: 'Ada Lovelace' })

    const dup = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: `ADA${mode}`, password: 'another password' } })
    t.equal(dup.statusCode, 409)
    t.same(dup.json(), { code: 'USERNAME_TAKEN', message: 'That username is taken' })

    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: `ada${mode}`, password: 'correct horse battery' } })
    t.equal(login.statusCode, 200)
    t.equal(login.json().user.id, user.id)
    const wrong = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: `ada${mode}`, password: 'wrong password' } })
    t.equal(wrong.statusCode, 401)
    t.equal(wrong.json().code, 'INVALID_CREDENTIALS')

    const me = await app.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } })
    t.equal(me.statusCode, 200)
    t.same(me.json().user, user)

    const bad = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'x' } })
    t.equal(bad.statusCode, 400)
    t.equal(bad.json().code, 'INVALID_REQUEST')

    const missing = await app.inject('/api/nothing-here')
    t.equal(missing.statusCode, 404)
    t.equal(missing.json().code, 'NOT_FOUND')

    // A token from an embedding app that signs with the same secret is accepted.
    const foreign = hs256(claims({ sub: 'ext-42', name: 'External' }))
    const ext = await app.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${foreign}` } })
    t.equal(ext.statusCode, 200)
    t.same(ext.json().user, { id: 'ext-42', username: 'ada', displayName: 'External' })
    t.ok(url)
  })
}

t.test('JWTs that are not HS256 with our secret and an exp are refused, over REST and at the handshake', async (t) => {
  const { app, url } = await buildTestApp(t)
  app.io.of('/probe').use(app.realtimeAuth.socketMiddleware({ required: true }))
  for (const [name, token] of Object.entries(badTokens())) {
    const res = await app.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 401, `REST refuses ${name}`)
    t.equal(res.json().code, 'INVALID_TOKEN', `REST code for ${name}`)
    const socket = connect(t, `${url}/probe`, { auth: { token } })
    const err = await connected(socket).then(() => null, (e) => e)
    t.equal(err?.data?.code, 'INVALID_TOKEN', `handshake refuses ${name}`)
    socket.disconnect()
  }
  const good = connect(t, `${url}/probe`, { auth: { token: hs256(claims()) } })
  await connected(good)
  t.ok(good.connected, 'a valid token connects')
  const viaQuery = connect(t, `${url}/probe`, { query: { token: hs256(claims()) } })
  await connected(viaQuery)
  const viaHeader = connect(t, `${url}/probe`, { extraHeaders: { authorization: `Bearer ${hs256(claims())}` } })
  await connected(viaHeader)
  t.pass('token accepted from query and Authorization header')
})

t.test('a bad config value stops the start with a message naming the variable', async (t) => {
  t.throws(() => loadConfig({ PORT: 'eighty' }), ConfigError)
  t.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/)
  t.throws(() => loadConfig({ WS_PING_INTERVAL: '-5' }), /WS_PING_INTERVAL/)
  t.throws(() => loadConfig({ REDIS_URL: 'http://nope' }), /REDIS_URL/)
  t.throws(() => loadConfig({}, { chatMaxLength: 0 }), /CHAT_MAX_LENGTH/)
  await t.rejects(buildApp({ env: { LOG_LEVEL: 'loud' } }), /LOG_LEVEL/)
  const config = loadConfig({ PORT: '4000', TYPING_TTL_MS: '25' }, { typingTtlMs: 50 })
  t.equal(config.port, 4000)
  t.equal(config.typingTtlMs, 50, 'plugin options win over env')
  t.same(config.generatedSecrets, ['JWT_SECRET', 'IP_HASH_SECRET'])
})

t.test('registered as a plugin under a prefix inside another Fastify app', async (t) => {
  const host = Fastify()
  host.get('/host-route', async () => ({ mine: true }))
  await host.register(realtime, {
    prefix: '/rt',
    env: { JWT_SECRET, IP_HASH_SECRET, LOG_LEVEL: 'silent' },
    database: await sharedPglite()
  })
  t.teardown(() => host.close())
  await host.listen({ port: 0, host: '127.0.0.1' })
  t.same((await host.inject('/host-route')).json(), { mine: true }, 'host keeps its own routes')
  t.equal((await host.inject('/rt/health')).statusCode, 200)
  t.equal((await host.inject('/health')).statusCode, 404, 'routes live under the prefix')
  t.ok(host.io, 'io is decorated on the host')
  host.io.of('/probe')
  const address = host.server.address() as { port: number }
  const socket = connect(t, `http://127.0.0.1:${address.port}/probe`, { path: '/rt/socket.io' })
  await connected(socket)
  t.ok(socket.connected, 'sockets are served under the prefix')
})

t.test('.env.example lists every configuration variable', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const { configVariables } = await import('../src/config.js')
  const example = await readFile(new URL('../.env.example', import.meta.url), 'utf8')
  for (const variable of Object.values(configVariables)) {
    t.match(example, new RegExp(`^#? ?${variable}=`, 'm'), `${variable} is in .env.example`)
  }
})

t.test('an adapter passed in socketIo options is used, and roomwire opens no Redis client for its own', { skip: servicesSkipReason() }, async (t) => {
  const redis = new Redis(process.env.REDIS_URL!)
  t.teardown(() => { redis.disconnect() })
  const { app, prefix } = await buildTestApp(t, { mode: 'services', socketIo: { adapter: ClosableSessionAwareAdapter as never } })
  const adapterClients = async () => ((await redis.client('LIST')) as string).split('\n')
    .filter((line) => line.includes(` name=${prefix}socket.io `)).length
  t.ok(app.io.of('/').adapter instanceof ClosableSessionAwareAdapter, 'the given adapter')
  t.equal(await adapterClients(), 0, 'no Redis client for a Streams adapter')
  await buildTestApp(t, { mode: 'services', shared: { prefix } })
  t.ok(await adapterClients() >= 1, 'an app on the default adapter has its client, by that name')
})
