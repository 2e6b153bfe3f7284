import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, connect, connected, modes, once, registerUser } from '../helper.js'
import { createRoom, createUser } from '../public-rooms/fixtures.js'
import { inner } from '../sync/fixtures.js'

/** The samples of a Prometheus text exposition, by `name{labels}` as printed. */
function parse (text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

async function scrape (app: FastifyInstance): Promise<Map<string, number>> {
  const res = await app.inject('/metrics')
  if (res.statusCode !== 200) throw new Error(`/metrics: ${res.statusCode}`)
  return parse(res.body)
}

const sample = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`

for (const mode of modes()) {
  t.test(`${mode}: socket events, errors, limits, connections, rooms and health in /metrics`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { CHAT_MESSAGES_PER_MINUTE: '3' } })
    const res = await app.inject('/metrics')
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)

    const { token } = await registerUser(app)
    const created = await app.inject({ method: 'POST', url: '/api/channels', headers: { authorization: `Bearer ${token}` }, payload: { name: 'metrics' } })
    const roomId: string = created.json().channel.id
    const sockets = [0, 1, 2].map(() => connect(t, url, { auth: { token } }))
    await Promise.all(sockets.map(s => connected(s)))
    for (const s of sockets) t.match(await s.emitWithAck('room:join', { roomId }), { ok: true })

    const before = await scrape(app)
    const chat = { namespace: '/', event: 'message' }
    t.equal(before.get(sample('roomwire_socket_events_received_total', chat)), 0, 'an event seen at bind time starts at 0')

    // One message to three sockets: counted once going out, whatever the recipients.
    const delivered = sockets.map(s => once(s, 'message'))
    t.match(await sockets[0].emitWithAck('message', { roomId, content: 'hello' }), { content: 'hello' })
    await Promise.all(delivered)
    const afterOne = await scrape(app)
    t.equal(afterOne.get(sample('roomwire_socket_events_sent_total', chat))! - (before.get(sample('roomwire_socket_events_sent_total', chat)) ?? 0), 1,
      'a broadcast to 3 sockets counts 1 emit')
    t.equal(afterOne.get(sample('roomwire_socket_events_received_total', chat)), 1)

    t.match(await sockets[0].emitWithAck('message', { roomId, content: 'two' }), { content: 'two' })
    t.match(await sockets[0].emitWithAck('message', { roomId, content: 'three' }), { content: 'three' })
    t.match(await sockets[0].emitWithAck('message', { roomId, content: 'four' }), { ok: false, error: { code: 'RATE_LIMITED' } })
    t.match(await sockets[1].emitWithAck('message', { roomId: 5 }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    // An event no namespace handles: ignored, and it must not become a label.
    sockets[2].emit('no_such_event', { x: 1 })
    t.match(await sockets[2].emitWithAck('typing', { roomId, isTyping: true }), { ok: true })

    const after = await scrape(app)
    t.equal(after.get(sample('roomwire_socket_events_received_total', chat)), 5, 'every message event received, bad and refused ones too')
    t.equal(after.get(sample('roomwire_socket_events_received_total', { namespace: '/', event: 'room:join' })), 3)
    t.equal(after.get(sample('roomwire_socket_events_received_total', { namespace: '/', event: 'typing' })), 1)
    t.equal(after.get(sample('roomwire_socket_events_rate_limited_total', chat)), 1)
    t.equal(after.get(sample('roomwire_socket_errors_total', { namespace: '/', code: 'RATE_LIMITED' })), 1)
    t.equal(after.get(sample('roomwire_socket_errors_total', { namespace: '/', code: 'INVALID_REQUEST' })), 1)
    t.equal(after.get(sample('roomwire_socket_event_duration_seconds_count', chat)), 5, 'the latency histogram saw every message')
    t.ok(after.get(sample('roomwire_socket_event_duration_seconds_bucket', { le: '+Inf', namespace: '/', event: 'message' })) === 5)
    t.ok(after.get(sample('roomwire_socket_events_sent_total', { namespace: '/', event: 'typing' }))! >= 1, 'typing went out')
    t.ok(after.get(sample('roomwire_socket_events_sent_total', { namespace: '/', event: 'error' }))! >= 2, 'the error events went out')
    const text = (await app.inject('/metrics')).body
    t.notMatch(text, /no_such_event/, 'an unknown event name makes no label')

    t.equal(after.get(sample('roomwire_socket_connections', { namespace: '/' })), 3)
    t.equal(after.get(sample('roomwire_socket_connections', { namespace: '/sync' })), 0)
    t.ok(after.get(sample('roomwire_socket_rooms', { namespace: '/' }))! >= 2, "the channel's room and the user's room")

    // A public room: one series for every room id.
    const room = await createRoom(app)
    const user = await createUser(app, 'Ada')
    const visitor = connect(t, `${url}/public-room/${room.id}`)
    await connected(visitor)
    t.match(await visitor.emitWithAck('join-room', { userId: user.userId, userName: 'Ada' }), { ok: true })
    const withRoom = await scrape(app)
    t.equal(withRoom.get(sample('roomwire_socket_connections', { namespace: '/public-room/*' })), 1)
    t.equal(withRoom.get(sample('roomwire_socket_rooms', { namespace: '/public-room/*' })), 2, 'its participants room and its user\'s room (where a kick reaches it)')
    t.equal(withRoom.get(sample('roomwire_socket_events_received_total', { namespace: '/public-room/*', event: 'join-room' })), 1)
    t.equal(withRoom.get(sample('roomwire_socket_events_sent_total', { namespace: '/public-room/*', event: 'user-joined' })), 1)
    t.notMatch((await app.inject('/metrics')).body, new RegExp(room.id), 'no label carries a room id')

    const db = mode === 'embedded' ? 'pglite' : 'postgres'
    const store = mode === 'embedded' ? 'memory' : 'redis'
    t.equal(withRoom.get(sample('roomwire_database_up', { kind: db })), 1)
    t.equal(withRoom.get(sample('roomwire_store_up', { kind: store })), 1)
    t.ok(withRoom.has('process_cpu_user_seconds_total'), 'default process metrics are there')
    t.ok([...withRoom.keys()].some(k => k.startsWith('nodejs_heap_size_used_bytes')))
  })
}

t.test('two apps in one process keep their own metrics', async (t) => {
  const a = await buildTestApp(t)
  const b = await buildTestApp(t)
  const { token } = await registerUser(a.app)
  const socket = connect(t, a.url, { auth: { token } })
  await connected(socket)
  t.match(await socket.emitWithAck('typing', { roomId: 'nowhere', isTyping: true }), { ok: false })
  const ofA = await scrape(a.app)
  const ofB = await scrape(b.app)
  t.equal(ofA.get(sample('roomwire_socket_events_received_total', { namespace: '/', event: 'typing' })), 1)
  t.notOk(ofB.has(sample('roomwire_socket_events_received_total', { namespace: '/', event: 'typing' })), 'b saw none of it')
  t.equal(ofA.get(sample('roomwire_socket_connections', { namespace: '/' })), 1)
  t.equal(ofB.get(sample('roomwire_socket_connections', { namespace: '/' })), 0)
})

t.test('a store or database that does not answer shows as down, within the scrape timeout', async (t) => {
  const { app } = await buildTestApp(t, { listen: false })
  const context = inner(app)
  const hang = () => new Promise<void>(() => {})
  const { ping: storePing } = context.store
  const { ping: sqlPing } = context.sql
  context.store.ping = hang
  context.sql.ping = hang
  t.teardown(() => { context.store.ping = storePing; context.sql.ping = sqlPing })
  const down = await scrape(app)
  t.equal(down.get(sample('roomwire_store_up', { kind: 'memory' })), 0)
  t.equal(down.get(sample('roomwire_database_up', { kind: 'pglite' })), 0)
  context.store.ping = storePing
  context.sql.ping = sqlPing
  const up = await scrape(app)
  t.equal(up.get(sample('roomwire_store_up', { kind: 'memory' })), 1)
  t.equal(up.get(sample('roomwire_database_up', { kind: 'pglite' })), 1)
})

t.test('METRICS_ENABLED=false: no /metrics', async (t) => {
  const { app } = await buildTestApp(t, { env: { METRICS_ENABLED: 'false' }, listen: false })
  t.equal((await app.inject('/metrics')).statusCode, 404)
  t.equal((await app.inject('/health')).statusCode, 200)
})
