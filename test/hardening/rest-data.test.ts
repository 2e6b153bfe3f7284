import type { IncomingMessage } from 'node:http'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { parseTrustProxy } from '../../src/config.js'
import { clientAddress, trustFunction } from '../../src/net.js'
import { createDatabase, type Database } from '../../src/db/index.js'
import { ADMIN_API_KEY, IP_HASH_SECRET, JWT_SECRET, buildTestApp, modes, once, registerUser, sharedPglite } from '../helper.js'
import { bearer, ChatClient, createChannel } from '../chat/fixtures.js'
import { createRoom, inner, syncClient, request } from '../sync/fixtures.js'

// CONTRACT §10, REST and stored data (issue 16): text and numbers bounded, clientMessageId per
// room, metadata size, paginated lists, redacted logs, security headers, TRUST_PROXY.

const NUL = 'a\u0000b'
const LONE = 'x\ud800y'

for (const mode of modes()) {
  t.test(`${mode}: U+0000 and lone surrogates are INVALID_REQUEST over REST, never a 500`, async (t) => {
    const { app } = await buildTestApp(t, { mode })
    const { token } = await registerUser(app)
    const cases = [
      { method: 'POST', url: '/api/auth/register', payload: { username: 'nul_user', password: `pass${NUL}word` } },
      { method: 'POST', url: '/api/auth/login', payload: { username: NUL, password: 'whatever1' } },
      { method: 'POST', url: '/api/channels', headers: bearer(token), payload: { name: LONE } },
      { method: 'POST', url: '/api/groups', headers: bearer(token), payload: { name: 'g', description: NUL } },
      { method: 'POST', url: '/api/sync/rooms', headers: bearer(token), payload: { name: NUL } },
      { method: 'POST', url: '/api/public/users', payload: { userName: NUL } },
      { method: 'GET', url: `/api/channels?namespace=${encodeURIComponent(NUL)}`, headers: bearer(token) },
      { method: 'POST', url: '/api/rooms', headers: { 'x-api-key': ADMIN_API_KEY }, payload: { name: 'm', metadata: { [NUL]: 1 } } },
      { method: 'POST', url: '/api/channels', headers: bearer(token), payload: { name: 'm', metadata: { topic: LONE } } }
    ] as const
    for (const c of cases) {
      const res = await app.inject(c as never)
      t.equal(res.statusCode, 400, `${c.method} ${c.url.split('?')[0]}: 400`)
      t.equal(res.json().code, 'INVALID_REQUEST')
    }
    const emoji = await app.inject({ method: 'POST', url: '/api/channels', headers: bearer(token), payload: { name: 'party 🎉' } })
    t.equal(emoji.statusCode, 201, 'a surrogate pair (an emoji) is text like any other')
  })

  t.test(`${mode}: U+0000 in a socket payload (/sync guestName) is the namespace's INVALID_REQUEST`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const owner = await registerUser(app)
    const room = await createRoom(app, owner.token)
    const guest = await syncClient(t, url)
    const error = once(guest, 'room:error')
    const ack = await request(guest, 'room:join', { roomCode: room.code, guestName: `Guest${NUL}` })
    t.match(ack, { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.match(await error, { code: 'INVALID_REQUEST' })
    const tooLong = await request(guest, 'room:join', { roomCode: room.code, guestName: 'g'.repeat(65) })
    t.match(tooLong, { ok: false, error: { code: 'INVALID_REQUEST' } }, 'guestName is at most 64 characters')
  })

  t.test(`${mode}: numeric query parameters out of range are 400, not 500`, async (t) => {
    const { app } = await buildTestApp(t, { mode })
    const { token } = await registerUser(app)
    const channelId = await createChannel(app, 'numbers', `numbers-${mode}`)
    const admin = { 'x-api-key': ADMIN_API_KEY }
    for (const [url, headers] of [
      ['/api/public/rooms?offset=1e30', {}],
      [`/api/rooms/${channelId}/messages?offset=1e30`, admin],
      [`/api/channels/${channelId}/messages?before=1e30`, bearer(token)],
      ['/api/channels?limit=101', bearer(token)],
      ['/api/groups?limit=0', bearer(token)]
    ] as const) {
      const res = await app.inject({ method: 'GET', url, headers })
      t.equal(res.statusCode, 400, `${url}: 400`)
      t.equal(res.json().code, 'INVALID_REQUEST')
    }
  })

  t.test(`${mode}: one clientMessageId in two rooms is two messages; a retry in one room is the first`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const alice = await registerUser(app)
    const [first, second] = [await createChannel(app, 'one', `cid-${mode}`), await createChannel(app, 'two', `cid-${mode}`)]
    const client = await ChatClient.open(t, url, alice.token)
    for (const roomId of [first, second]) await client.ack('room:join', { roomId })
    const inFirst = await client.ack('message', { roomId: first, content: 'hello one', clientMessageId: 'same-id' })
    const inSecond = await client.ack('message', { roomId: second, content: 'hello two', clientMessageId: 'same-id' })
    t.match(inFirst, { roomId: first, content: 'hello one' })
    t.match(inSecond, { roomId: second, content: 'hello two' }, 'the second room stores its own message')
    t.not(inSecond.id, inFirst.id)
    const retry = await client.ack('message', { roomId: first, content: 'hello again', clientMessageId: 'same-id' })
    t.equal(retry.id, inFirst.id, 'a retry in the same room answers the first message')
    const history = await app.inject({ method: 'GET', url: `/api/channels/${second}/messages`, headers: bearer(alice.token) })
    t.same(history.json().messages.map((m: { content: string }) => m.content), ['hello two'])
  })

  t.test(`${mode}: channel metadata is bounded; lists are paginated and leave metadata out`, async (t) => {
    const { app } = await buildTestApp(t, { mode, env: { CHANNEL_METADATA_MAX_BYTES: '256' } })
    const { token } = await registerUser(app)
    const namespace = `pages-${mode}`
    const big = await app.inject({ method: 'POST', url: '/api/channels', headers: bearer(token), payload: { name: 'big', namespace, metadata: { blob: 'x'.repeat(300) } } })
    t.equal(big.statusCode, 400)
    t.match(big.json(), { code: 'INVALID_REQUEST', message: /CHANNEL_METADATA_MAX_BYTES/ })
    const adminBig = await app.inject({ method: 'POST', url: '/api/rooms', headers: { 'x-api-key': ADMIN_API_KEY }, payload: { name: 'big', namespace, metadata: { blob: 'x'.repeat(300) } } })
    t.equal(adminBig.statusCode, 400, 'admin REST keeps the same bound')
    const names: string[] = []
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({ method: 'POST', url: '/api/channels', headers: bearer(token), payload: { name: `c${i}`, namespace, metadata: { topic: 't'.repeat(100) } } })
      t.equal(res.statusCode, 201)
      names.push(`c${i}`)
    }
    const detail = await app.inject({ method: 'POST', url: '/api/groups', headers: bearer(token), payload: { name: 'g1' } })
    t.equal(detail.statusCode, 201)

    const pages: string[][] = []
    let cursor: string | null = null
    do {
      const query: string = `namespace=${namespace}&limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const res = await app.inject({ method: 'GET', url: `/api/channels?${query}`, headers: bearer(token) })
      t.equal(res.statusCode, 200)
      const body = res.json()
      for (const channel of body.channels) t.notOk('metadata' in channel, 'a list item has no metadata')
      pages.push(body.channels.map((c: { name: string }) => c.name))
      cursor = body.nextCursor
    } while (cursor !== null && pages.length < 10)
    t.same(pages, [['c0', 'c1'], ['c2', 'c3'], ['c4']], 'every channel once, in creation order; nextCursor null at the end')

    const admin = await app.inject({ method: 'GET', url: `/api/rooms?namespace=${namespace}&limit=3`, headers: { 'x-api-key': ADMIN_API_KEY } })
    t.equal(admin.json().rooms.length, 3)
    t.type(admin.json().nextCursor, 'string')
    t.notOk('metadata' in admin.json().rooms[0])
    const groups = await app.inject({ method: 'GET', url: '/api/groups', headers: bearer(token) })
    t.match(groups.json(), { groups: [{ name: 'g1' }], nextCursor: null })
    const publicRooms = await app.inject({ method: 'GET', url: '/api/public/rooms?limit=1' })
    t.match(publicRooms.json(), { rooms: [], nextCursor: null })
    const forged = await app.inject({ method: 'GET', url: '/api/channels?cursor=bm90LWEtY3Vyc29y', headers: bearer(token) })
    t.equal(forged.statusCode, 400, 'a cursor this server did not give is INVALID_REQUEST')
  })

  t.test(`${mode}: the API sends security headers; the demo page keeps its CSP`, async (t) => {
    const { app } = await buildTestApp(t, { mode })
    for (const url of ['/api/public/rooms', '/health', '/api/nope']) {
      const res = await app.inject(url)
      t.equal(res.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`)
      t.equal(res.headers['x-frame-options'], 'DENY', `${url}: no framing`)
      t.equal(res.headers['referrer-policy'], 'no-referrer', `${url}: no referrer`)
    }
    const demo = await app.inject('/')
    t.equal(demo.statusCode, 200)
    t.match(demo.headers['content-security-policy'], /default-src/, 'the demo keeps its own CSP')
    const docs = await app.inject('/docs/')
    t.ok(docs.statusCode < 400, 'Swagger UI still answers')
  })
}

t.test('TRUST_PROXY=1 is one hop (REST and sockets); TRUST_PROXY=true warns at start', async (t) => {
  const app = await buildApp({ database: await sharedPglite(), env: { JWT_SECRET, IP_HASH_SECRET, TRUST_PROXY: '1', LOG_LEVEL: 'silent' } })
  t.teardown(() => app.close())
  const headers = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' }
  const rest = await app.inject({ method: 'POST', url: '/api/public/users', payload: { userName: 'hop' }, remoteAddress: '127.0.0.1', headers })
  const user = rest.json()
  // The user is bound to the client address; joining needs that same address (CONTRACT §4).
  const hashes = inner(app).publicRooms
  t.equal((await inner(app).publicRooms.rooms.verifyUser(user.userId, hashes.hashIp('198.51.100.7'))).userId, user.userId, 'REST: the address the one proxy saw, not a forged earlier entry')
  const handshake = { socket: { remoteAddress: '127.0.0.1' }, headers } as unknown as IncomingMessage
  t.equal(clientAddress(handshake, trustFunction(parseTrustProxy('1'))), '198.51.100.7', 'sockets: the same address')

  const { lines } = await loggedApp(t, 'warn', { TRUST_PROXY: 'true' })
  t.match(lines.join(''), /TRUST_PROXY=true trusts every X-Forwarded-For/, 'the warning names the risk')
})

/** An app (demo off) whose log lines at `level` are collected in `lines`; closed at the end of `t`. */
async function loggedApp (t: Test, level: string, env: Record<string, string>, database?: Database) {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const app = await buildApp({
    database: database ?? await sharedPglite(),
    env: { JWT_SECRET, IP_HASH_SECRET, DEMO_ENABLED: 'false', ...env },
    fastify: { logger: { level, stream } }
  })
  // After an outage the close may fail on the database already closed.
  t.teardown(() => app.close().catch(() => {}))
  await app.ready()
  return { app, lines }
}

t.test('a query failing during a database outage is logged without its parameters', async (t) => {
  const database = await createDatabase({ dataDir: 'memory' })
  const { app, lines } = await loggedApp(t, 'info', {}, database)
  await database.close()
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/register?token=secret-in-query',
    headers: { authorization: 'Bearer header-token' },
    payload: { username: 'outage_user', password: 'very-secret-password' }
  })
  t.ok(res.statusCode >= 500, `the register fails (${res.statusCode})`)
  const log = lines.join('')
  t.match(log, /Failed query: insert into/, 'the failed query is logged')
  t.notMatch(log, /params/, 'without its params')
  t.notMatch(log, /scrypt|\$scrypt|outage_user|very-secret-password/, 'no hash, username or password')
  t.notMatch(log, /secret-in-query|header-token/, 'no query string, no authorization header')
})

t.test('probes (/health, /metrics) leave no access-log line; other requests do, with their reqId', async (t) => {
  const { app, lines } = await loggedApp(t, 'info', { METRICS_ENABLED: 'true' })
  const before = lines.length
  t.equal((await app.inject({ url: '/health' })).statusCode, 200)
  t.equal((await app.inject({ url: '/health?probe=1' })).statusCode, 200)
  t.equal((await app.inject({ url: '/metrics' })).statusCode, 200)
  t.same(lines.slice(before), [], 'nothing logged for the probes')
  t.equal((await app.inject({ url: '/ready' })).statusCode, 200)
  const logged = lines.slice(before).map((line) => JSON.parse(line) as { msg: string, reqId?: string })
  t.same(logged.map((l) => l.msg), ['incoming request', 'request completed'], '/ready is logged')
  t.ok(logged.every((l) => typeof l.reqId === 'string' && l.reqId !== ''), 'with its request id')
})
