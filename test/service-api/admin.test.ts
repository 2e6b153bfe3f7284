import t from 'tap'
import { buildTestApp, modes, registerUser, servicesSkipReason } from '../helper.js'
import { claims, hs256 } from '../tokens.js'
import { adminKey, bearer, openClient, serviceEvent } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

const ROOM = '00000000-0000-4000-8000-000000000000'

/** Every admin route, with a request that would succeed given the credentials. */
const routes = [
  { method: 'POST', url: '/api/rooms', payload: { name: 'x' } },
  { method: 'GET', url: '/api/rooms' },
  { method: 'GET', url: `/api/rooms/${ROOM}` },
  { method: 'DELETE', url: `/api/rooms/${ROOM}` },
  { method: 'GET', url: `/api/rooms/${ROOM}/messages?limit=10&offset=0` },
  { method: 'GET', url: `/api/rooms/${ROOM}/stats` },
  { method: 'POST', url: '/api/broadcast', payload: { target: 'all', event: 'x', data: 1 } },
  { method: 'GET', url: '/api/stats' },
  { method: 'POST', url: '/api/users/someone/disconnect' }
] as const

for (const mode of modes()) {
  t.test(`${mode}: admin REST refuses anonymous (401) and non-admin (403) callers, on every route`, async (t) => {
    const { app } = await buildTestApp(t, { mode })
    const user = await registerUser(app)
    const refusals = [
      { name: 'no credentials', headers: {}, status: 401, code: 'UNAUTHORIZED' },
      { name: 'a wrong API key', headers: { 'x-api-key': 'wrong' }, status: 401, code: 'UNAUTHORIZED' },
      { name: 'an invalid token', headers: bearer('not.a.jwt'), status: 401, code: 'INVALID_TOKEN' },
      { name: 'a user token', headers: bearer(user.token), status: 403, code: 'FORBIDDEN' },
      { name: 'a token with role user', headers: bearer(hs256(claims({ role: 'user' }))), status: 403, code: 'FORBIDDEN' }
    ]
    for (const route of routes) {
      for (const refusal of refusals) {
        const res = await app.inject({ ...route, headers: refusal.headers })
        t.equal(res.statusCode, refusal.status, `${route.method} ${route.url} with ${refusal.name}`)
        t.same(Object.keys(res.json()).sort(), ['code', 'message'])
        t.equal(res.json().code, refusal.code)
      }
      for (const headers of [adminKey, bearer(hs256(claims({ role: 'admin' })))]) {
        const res = await app.inject({ ...route, headers })
        t.ok([200, 201, 204, 404].includes(res.statusCode), `${route.method} ${route.url} accepted for an admin (${res.statusCode})`)
      }
    }
    // nothing was changed by the refused calls
    const rooms = await app.inject({ method: 'GET', url: '/api/rooms', headers: adminKey })
    t.equal(rooms.json().rooms.filter((r: any) => r.name === 'x').length, 2, 'only the two admin creations')
  })

  t.test(`${mode}: every admin route works`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const admin = bearer(hs256(claims({ sub: 'admin-1', role: 'admin', username: 'root' })))
    const alice = await registerUser(app, `alice_adm_${mode}`, 'Alice')
    const bob = await registerUser(app, `bob_adm_${mode}`, 'Bob')
    const a = await openClient(t, app, url, alice.token)
    const b = await openClient(t, app, url, bob.token)
    const ns = `admin-${mode}`

    // POST /api/rooms
    const created = await app.inject({ method: 'POST', url: '/api/rooms', headers: admin, payload: { name: 'support', namespace: ns, metadata: { tier: 1 } } })
    t.equal(created.statusCode, 201)
    const room = created.json().room
    t.match(room, { name: 'support', namespace: ns, createdBy: 'admin-1', metadata: { tier: 1 }, members: [], memberCount: 0 })
    const byKey = await app.inject({ method: 'POST', url: '/api/rooms', headers: adminKey, payload: { name: 'other', namespace: ns, createdBy: alice.user.id } })
    t.equal(byKey.json().room.createdBy, alice.user.id)
    t.equal((await app.inject({ method: 'POST', url: '/api/rooms', headers: adminKey, payload: { namespace: ns } })).json().code, 'INVALID_REQUEST')

    // GET /api/rooms(?namespace)
    const list = await app.inject({ method: 'GET', url: `/api/rooms?namespace=${ns}`, headers: adminKey })
    t.same(list.json().rooms.map((r: any) => r.name), ['support', 'other'])

    // clients join; GET /api/rooms/:id shows them
    a.emit('room:join', { roomId: room.id })
    await a.next('user:joined')
    b.emit('room:join', { roomId: room.id })
    await a.next('user:joined', (d) => d.userId === bob.user.id)
    const detail = await app.inject({ method: 'GET', url: `/api/rooms/${room.id}`, headers: adminKey })
    t.equal(detail.statusCode, 200)
    t.equal(detail.json().room.memberCount, 2)
    t.same(detail.json().members.map((m: any) => m.username).sort(), [`alice_adm_${mode}`, `bob_adm_${mode}`])
    t.same((await app.inject({ method: 'GET', url: '/api/rooms/nope', headers: adminKey })).json(), { code: 'ROOM_NOT_FOUND', message: 'Room not found' })

    // GET /api/rooms/:id/messages?limit&offset
    for (const content of ['one', 'two', 'three']) await a.ack('message', { roomId: room.id, content })
    const page = await app.inject({ method: 'GET', url: `/api/rooms/${room.id}/messages?limit=2`, headers: adminKey })
    t.same(page.json().messages.map((m: any) => m.content), ['two', 'three'])
    t.match(page.json().messages[0], { roomId: room.id, userId: alice.user.id, username: `alice_adm_${mode}`, type: 'text', seq: 2, metadata: null })
    const older = await app.inject({ method: 'GET', url: `/api/rooms/${room.id}/messages?limit=2&offset=2`, headers: adminKey })
    t.same(older.json().messages.map((m: any) => m.content), ['one'])
    t.equal((await app.inject({ method: 'GET', url: `/api/rooms/${room.id}/messages?limit=0`, headers: adminKey })).statusCode, 400)
    t.equal((await app.inject({ method: 'GET', url: `/api/rooms/${ROOM}/messages`, headers: adminKey })).statusCode, 404)

    // GET /api/rooms/:id/stats
    const stats = await app.inject({ method: 'GET', url: `/api/rooms/${room.id}/stats`, headers: adminKey })
    t.match(stats.json(), { roomId: room.id, name: 'support', memberCount: 2, socketCount: 2, messageCount: 3 })
    t.ok(Date.parse(stats.json().lastActivity) >= Date.parse(stats.json().createdAt))

    // POST /api/broadcast: room (with except), users, all
    const broadcast = (payload: object) => app.inject({ method: 'POST', url: '/api/broadcast', headers: admin, payload })
    const markA = a.mark()
    t.same((await broadcast({ target: 'room', roomId: room.id, event: 'system:announcement', data: { message: 'room only' }, except: [a.id] })).json(), { ok: true })
    t.same(await b.next('system:announcement'), { message: 'room only' })
    t.equal((await broadcast({ target: 'users', userIds: [alice.user.id], event: 'notification', data: { type: 'mention' } })).statusCode, 200)
    t.same(await a.next('notification'), { type: 'mention' })
    t.notOk(a.received.slice(markA).some((r) => r.event === 'system:announcement'), 'except kept it from Alice')
    t.equal((await broadcast({ target: 'all', event: 'system:announcement', data: { message: 'everyone' } })).statusCode, 200)
    t.same(await a.next('system:announcement'), { message: 'everyone' })
    t.same(await b.next('system:announcement'), { message: 'everyone' })
    t.equal(b.all('notification').length, 0)
    for (const [payload, status] of [
      [{ target: 'room', event: 'x', data: 1 }, 400],
      [{ target: 'users', userIds: [], event: 'x', data: 1 }, 400],
      [{ target: 'everyone', event: 'x', data: 1 }, 400],
      [{ target: 'all', event: 'disconnect', data: 1 }, 400],
      [{ target: 'all', event: '', data: 1 }, 400],
      [{ target: 'room', roomId: ROOM, event: 'x', data: 1 }, 404]
    ] as const) {
      const res = await broadcast(payload)
      t.equal(res.statusCode, status, JSON.stringify(payload))
      t.equal(res.json().code, status === 400 ? 'INVALID_REQUEST' : 'ROOM_NOT_FOUND')
    }

    // GET /api/stats
    const all = await app.inject({ method: 'GET', url: '/api/stats', headers: adminKey })
    t.match(all.json(), { totalConnections: 2, activeConnections: 2, onlineUsers: 2 })
    t.ok(all.json().totalRooms >= 2 && all.json().totalMessages >= 3)

    // POST /api/users/:id/disconnect
    const gone = serviceEvent(app, 'disconnect', (u) => u.id === bob.user.id)
    const kicked = await app.inject({ method: 'POST', url: `/api/users/${bob.user.id}/disconnect`, headers: admin, payload: { reason: 'spam' } })
    t.same(kicked.json(), { ok: true, disconnected: 1 })
    t.equal(await b.next('disconnect'), 'io server disconnect')
    t.equal((await gone)[1], 'spam')
    t.same(await a.next('user:left'), { roomId: room.id, userId: bob.user.id, username: `bob_adm_${mode}` })
    const again = await app.inject({ method: 'POST', url: `/api/users/${bob.user.id}/disconnect`, headers: adminKey })
    t.same(again.json(), { ok: true, disconnected: 0 }, 'no body needed')

    // DELETE /api/rooms/:id
    const deleted = await app.inject({ method: 'DELETE', url: `/api/rooms/${room.id}`, headers: adminKey })
    t.equal(deleted.statusCode, 204)
    t.same(await a.next('room:deleted'), { roomId: room.id })
    t.equal((await app.inject({ method: 'DELETE', url: `/api/rooms/${room.id}`, headers: adminKey })).statusCode, 404)
    t.equal((await app.inject({ method: 'GET', url: `/api/rooms/${room.id}/stats`, headers: adminKey })).statusCode, 404)
  })
}
