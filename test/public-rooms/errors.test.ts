import { randomUUID } from 'node:crypto'
import t from 'tap'
import { eq } from 'drizzle-orm'
import { buildTestApp, connected, freshPglite, freshPostgresUrl, modes, registerUser, servicesSkipReason, sharedPglite, type Mode } from '../helper.js'
import { createDatabase } from '../../src/db/index.js'
import { publicRooms } from '../../src/db/schema/public-rooms.js'
import { createRoom, createUser, ELSEWHERE, flush, occupancy, restJoin, restLeave, SeedClient } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

/** A database of the test's own (so that it can be closed under a running app). */
async function ownDatabase (mode: Mode) {
  return mode === 'services'
    ? await createDatabase({ databaseUrl: await freshPostgresUrl('closed-under-the-app'), dataDir: 'memory' })
    : await freshPglite()
}

/** The database buildTestApp would use, opened here too so that a test can change rows under the app. */
async function sameDatabase (t: Parameters<typeof buildTestApp>[0], mode: Mode) {
  if (mode === 'embedded') return await sharedPglite()
  const database = await createDatabase({ databaseUrl: await freshPostgresUrl(), dataDir: 'memory' })
  t.teardown(() => database.close())
  return database
}

for (const mode of modes()) {
  t.test(`${mode}: ROOM_NOT_FOUND`, async (t) => {
    const database = await sameDatabase(t, mode)
    const { app, url } = await buildTestApp(t, { mode, database })
    for (const id of [randomUUID(), 'not-a-room', randomUUID().toUpperCase()]) {
      const client = new SeedClient(t, url, id)
      t.match(await client.next('error'), { code: 'ROOM_NOT_FOUND', message: String }, `namespace of ${id}`)
      t.equal(await client.next('disconnect', () => true, { from: 0 }), 'io server disconnect', 'then disconnected')
      // The child namespace of a made-up room does not stay behind.
      t.equal((await app.inject('/health')).statusCode, 200)
      t.notOk(app.io._nsps.has(`/public-room/${id}`), 'its namespace is dropped')
    }
    t.equal(await app.getConnectionCount('127.0.0.1'), 0, 'refused before taking a slot')

    for (const id of [randomUUID(), 'nope']) {
      const get = await app.inject(`/api/public/rooms/${id}`)
      t.equal(get.statusCode, 404)
      t.same(get.json(), { code: 'ROOM_NOT_FOUND', message: 'Room not found' })
    }
    const user = await createUser(app, 'Ann')
    const join = await restJoin(app, randomUUID(), user.userId)
    t.equal(join.statusCode, 404)
    t.equal(join.json().code, 'ROOM_NOT_FOUND')
    t.equal((await restLeave(app, 'nope', user.userId)).json().code, 'ROOM_NOT_FOUND')

    // A room deleted while a client is in it: its next join-room answers ROOM_NOT_FOUND.
    const room = await createRoom(app)
    const client = new SeedClient(t, url, room.id)
    t.equal((await client.join(user)).ok, true)
    await database.db.delete(publicRooms).where(eq(publicRooms.id, room.id))
    const ack = await client.join(user)
    t.same(ack, { ok: false, error: { code: 'ROOM_NOT_FOUND', message: 'Room not found' } }, 'join on a deleted room')
    t.same(client.all('error'), [ack.error], 'also emitted as error')
  })

  t.test(`${mode}: INVALID_REQUEST`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const room = await createRoom(app)
    const user = await createUser(app, 'Ann')
    const client = new SeedClient(t, url, room.id)
    await connected(client.socket)
    const bad: Array<[string, unknown]> = [
      ['join-room', {}],
      ['join-room', { userId: user.userId }],
      ['join-room', { userId: 42, userName: 'Ann' }],
      ['join-room', 'Ann'],
      ['join-room', undefined],
      ['leave-room', {}],
      ['leave-room', { userId: '' }],
      ['leave-room', null]
    ]
    for (const [event, payload] of bad) {
      const ack = await client.socket.timeout(5_000).emitWithAck(event, payload)
      t.match(ack, { ok: false, error: { code: 'INVALID_REQUEST', message: String } }, `${event} ${JSON.stringify(payload)}`)
    }
    t.equal(client.all('error').length, bad.length, 'each one also emitted as error')
    t.ok(client.all('error').every((e) => e.code === 'INVALID_REQUEST'))
    // Without an ack the error event is the answer.
    client.socket.emit('join-room', { userName: 'Ann' })
    t.equal((await client.next('error')).code, 'INVALID_REQUEST')
    t.ok(client.socket.connected, 'a bad payload does not end the connection')
    t.equal((await client.join(user)).ok, true, 'and a good one works after')

    const { token } = await registerUser(app)
    const auth = { authorization: `Bearer ${token}` }
    const cases = [
      { method: 'POST' as const, url: '/api/public/users', payload: {} },
      { method: 'POST' as const, url: '/api/public/users', payload: { userName: '   ' } },
      { method: 'POST' as const, url: '/api/public/users', payload: { userName: 'x'.repeat(65) } },
      { method: 'POST' as const, url: '/api/public/rooms', payload: { name: '' }, headers: auth },
      { method: 'POST' as const, url: '/api/public/rooms', payload: { name: 'ok', capacity: 0 }, headers: auth },
      { method: 'POST' as const, url: `/api/public/rooms/${room.id}/join`, payload: {} },
      { method: 'POST' as const, url: `/api/public/rooms/${room.id}/leave`, payload: { user: 'x' } }
    ]
    for (const request of cases) {
      const res = await app.inject(request)
      t.equal(res.statusCode, 400, `${request.url} ${JSON.stringify(request.payload)}`)
      t.equal(res.json().code, 'INVALID_REQUEST')
    }
    const anonymous = await app.inject({ method: 'POST', url: '/api/public/rooms', payload: { name: 'x' } })
    t.equal(anonymous.statusCode, 401, 'creating a room needs a registered user')
    t.equal(anonymous.json().code, 'UNAUTHORIZED')
  })

  t.test(`${mode}: INVALID_USER`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const room = await createRoom(app)
    const ann = await createUser(app, 'Ann')
    const bea = await createUser(app, 'Bea')
    const elsewhere = await createUser(app, 'Eve', ELSEWHERE)
    const client = new SeedClient(t, url, room.id)
    await connected(client.socket)

    const cases: Array<[string, { userId: string, userName: string }]> = [
      ['a user that does not exist', { userId: randomUUID(), userName: 'Ghost' }],
      ['an id that is not one', { userId: 'bob', userName: 'Bob' }],
      ['a user created from another IP', elsewhere]
    ]
    for (const [what, user] of cases) {
      t.match(await client.join(user), { ok: false, error: { code: 'INVALID_USER' } }, what)
    }
    t.equal(client.all('error').length, cases.length, 'each one emitted as error')
    t.equal(await occupancy(app, room.id), 0, 'nobody joined')

    t.equal((await client.join(ann)).ok, true)
    t.match(await client.join(bea), { ok: false, error: { code: 'INVALID_USER' } }, 'a connection is one user')
    t.match(await client.leave(bea.userId), { ok: false, error: { code: 'INVALID_USER' } }, 'leave-room as someone else')
    t.ok(client.socket.connected)
    t.equal(await occupancy(app, room.id), 1, 'Ann is still there')

    // The same IP check over REST.
    for (const res of [await restJoin(app, room.id, elsewhere.userId), await restLeave(app, room.id, elsewhere.userId),
      await restJoin(app, room.id, randomUUID()), await restJoin(app, room.id, ann.userId, ELSEWHERE)]) {
      t.equal(res.statusCode, 400)
      t.equal(res.json().code, 'INVALID_USER')
    }
    t.equal((await restJoin(app, room.id, elsewhere.userId, ELSEWHERE)).statusCode, 200, 'from its own IP it may')
  })

  t.test(`${mode}: ROOM_FULL, atomic, and seats given back`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const room = await createRoom(app, { capacity: 2 })
    t.equal(room.capacity, 2)
    const users = await Promise.all(['A', 'B', 'C', 'D', 'E'].map(async (name) => await createUser(app, name)))

    // Five racing REST joins: exactly two seats.
    const results = await Promise.all(users.map(async (u) => await restJoin(app, room.id, u.userId)))
    const statuses = results.map((r) => r.statusCode).sort()
    t.same(statuses, [200, 200, 409, 409, 409], 'exactly two of five racing joins get a seat')
    const full = results.find((r) => r.statusCode === 409)!
    t.equal(full.json().code, 'ROOM_FULL')
    const seated = users.filter((_, i) => results[i].statusCode === 200)
    const standing = users.filter((_, i) => results[i].statusCode === 409)
    t.equal((await restJoin(app, room.id, seated[0].userId)).statusCode, 200, 'a member joining again keeps the seat')

    // The socket join takes seats the same way.
    const client = new SeedClient(t, url, room.id)
    await connected(client.socket)
    t.match(await client.join(standing[0]), { ok: false, error: { code: 'ROOM_FULL' } }, 'join-room in a full room')
    t.equal(client.all('error')[0].code, 'ROOM_FULL')
    t.equal((await client.join(seated[0])).ok, true, 'a member joins')

    // REST leave gives a seat back.
    t.equal((await restLeave(app, room.id, seated[1].userId)).statusCode, 200)
    const other = new SeedClient(t, url, room.id)
    t.equal(await other.joinOrRefusal(standing[0]), 'joined', 'join-room takes the free seat')
    t.equal((await restJoin(app, room.id, standing[1].userId)).statusCode, 409, 'full again')

    // Leaving (leave-room, or the last socket disconnecting) gives the seat back too.
    const leftFirst = client.next('user-left', (e) => e.userId === standing[0].userId)
    t.same(await other.leave(standing[0].userId), { ok: true })
    t.same(await leftFirst, { userId: standing[0].userId, currentOccupancy: 1 })
    t.equal((await restJoin(app, room.id, standing[1].userId)).statusCode, 200, 'the seat of the leaver is free')
    t.equal((await restLeave(app, room.id, standing[1].userId)).statusCode, 200)
    const eve = await createUser(app, 'Eve', ELSEWHERE)
    const third = new SeedClient(t, url, room.id, { ip: ELSEWHERE })
    t.equal(await third.joinOrRefusal(eve), 'joined')
    const leftThird = client.next('user-left', (e) => e.userId === eve.userId)
    third.socket.disconnect()
    await leftThird
    t.equal((await restJoin(app, room.id, standing[1].userId)).statusCode, 200, 'user-left: the seat is already free')
    await flush(app, room.id, [client])
  })

  t.test(`${mode}: JOIN_ERROR, LEAVE_ERROR and CONNECTION_ERROR when the database fails`, async (t) => {
    const database = await ownDatabase(mode)
    const { app, url } = await buildTestApp(t, { mode, database })
    const room = await createRoom(app)
    const ann = await createUser(app, 'Ann')
    const observer = new SeedClient(t, url, room.id, { ip: ELSEWHERE })
    t.equal((await observer.join(await createUser(app, 'Obi', ELSEWHERE))).ok, true)
    const client = new SeedClient(t, url, room.id)
    t.equal((await client.join(ann)).ok, true)

    // The database goes away under the running app (a real failure, no mock).
    await database.close()

    t.match(await client.join(ann), { ok: false, error: { code: 'JOIN_ERROR', message: 'Internal error' } }, 'join-room')
    const heard = observer.next('user-left')
    t.match(await client.leave(ann.userId), { ok: false, error: { code: 'LEAVE_ERROR', message: 'Internal error' } }, 'leave-room')
    t.same(client.all('error').map((e) => e.code), ['JOIN_ERROR', 'LEAVE_ERROR'], 'both also emitted as error')
    t.same(await heard, { userId: ann.userId, currentOccupancy: 1 }, 'the room still hears that the user left')
    t.ok(client.socket.connected, 'a failed leave keeps the connection: the client may retry')

    const late = new SeedClient(t, url, room.id)
    t.match(await late.next('error'), { code: 'CONNECTION_ERROR' }, 'a connection that cannot be checked')
    t.equal(await late.next('disconnect', () => true, { from: 0 }), 'io server disconnect')
    t.equal(await app.getConnectionCount('127.0.0.1'), 1, 'it took no slot')

    const rest = await restJoin(app, room.id, ann.userId)
    t.equal(rest.statusCode, 500, 'REST answers INTERNAL_ERROR')
    t.equal(rest.json().code, 'INTERNAL_ERROR')
  })
}
