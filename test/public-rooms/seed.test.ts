import t from 'tap'
import { buildTestApp, connected, modes, servicesSkipReason } from '../helper.js'
import { createRoom, createUser, ELSEWHERE, flush, HERE, occupancy, restJoin, restLeave, SeedClient } from './fixtures.js'

const MAX_MISSED = 3
const isIso = (value: string) => new Date(value).toISOString() === value

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

for (const mode of modes()) {
  t.test(`${mode}: seed 000 "Manual Testing", steps 1–14`, async (t) => {
    // 1. Start the server (idle ping in milliseconds).
    const { app, url } = await buildTestApp(t, {
      mode, env: { PUBLIC_PING_IDLE_MS: '40', PUBLIC_PING_MAX_MISSED: String(MAX_MISSED) }
    })
    t.equal((await app.inject('/health')).statusCode, 200, '1. server up')
    const room = await createRoom(app)
    const ada = await createUser(app, 'Ada')
    const bob = await createUser(app, 'Bob')

    // 2. Connect to a public room namespace.
    const first = new SeedClient(t, url, room.id)
    await connected(first.socket)
    t.ok(first.socket.connected, '2. connected to /public-room/:roomId')

    // 3. Emit join-room with user data.  4. user-joined is received.
    const joinedAda = first.next('user-joined')
    const ack = await first.join(ada)
    t.equal(ack.ok, true, '3. join-room acknowledged')
    const seen = await joinedAda
    t.match(seen, { userId: ada.userId, userName: 'Ada', currentOccupancy: 1 }, '4. user-joined received')
    t.ok(isIso(seen.joinedAt), '4. joinedAt is an ISO timestamp')

    // 5. Another connection from the same IP.  6. Both work.
    const second = new SeedClient(t, url, room.id)
    await connected(second.socket)
    const bobSeenByFirst = first.next('user-joined', (e) => e.userId === bob.userId)
    const bobSeenBySecond = second.next('user-joined', (e) => e.userId === bob.userId)
    t.equal((await second.join(bob)).ok, true, '5. second connection from the same IP joins')
    t.match(await bobSeenByFirst, { userName: 'Bob', currentOccupancy: 2 }, '6. the first connection hears the second')
    t.match(await bobSeenBySecond, { userName: 'Bob', currentOccupancy: 2 }, '6. the joiner hears itself')
    t.ok(first.socket.connected && second.socket.connected, '6. both connections work')

    // 7. A third connection from the same IP.  8. Refused with TOO_MANY_CONNECTIONS.
    const third = new SeedClient(t, url, room.id)
    const refusal = await third.next('error')
    t.same(refusal.code, 'TOO_MANY_CONNECTIONS', '8. third connection refused')
    t.equal(typeof refusal.message, 'string')
    t.equal(await third.next('disconnect', () => true, { from: 0 }), 'io server disconnect', '8. and disconnected')
    t.equal(await app.getConnectionCount(HERE), 2, 'the refused connection holds no slot')
    t.ok(first.socket.connected && second.socket.connected, 'the first two are untouched')

    // 9. Wait (PUBLIC_PING_IDLE_MS) without activity.  10. ping is received.
    const pingsBefore = first.pings
    await first.next('ping')
    t.ok(first.pings > pingsBefore, '10. ping received after the idle time')

    // 11. Respond with pong (the client answers every ping).  12. The connection stays alive:
    // more pings than MAX_MISSED arrive, each answered, and no timeout.
    const from = first.received.length
    for (let i = 0; i < MAX_MISSED + 2; i++) await first.next('ping', () => true, { from: first.received.length })
    t.ok(first.socket.connected, `12. alive after ${MAX_MISSED + 2} answered pings`)
    t.same(first.received.slice(from).filter((r) => r.event === 'error'), [], '12. no error')

    // 13. Ignore consecutive pings.  14. The connection is terminated with CONNECTION_TIMEOUT.
    const bobLeft = first.next('user-left', (e) => e.userId === bob.userId)
    second.answerPings = false
    const ignoredFrom = second.pings
    const timeout = await second.next('error')
    t.equal(timeout.code, 'CONNECTION_TIMEOUT', '14. CONNECTION_TIMEOUT')
    t.equal(second.pings - ignoredFrom, MAX_MISSED, `13. after ${MAX_MISSED} unanswered pings`)
    t.equal(await second.next('disconnect', () => true, { from: 0 }), 'io server disconnect', '14. terminated')
    t.same(await bobLeft, { userId: bob.userId, currentOccupancy: 1 }, 'disconnect = leave: the room hears user-left')
    t.equal(await occupancy(app, room.id), 1)

    // Its slot is free again: a new connection from the same IP is admitted.
    const again = new SeedClient(t, url, room.id)
    t.equal(await again.joinOrRefusal(bob), 'joined', 'the freed slot is taken by a new connection')
    t.equal(await app.getConnectionCount(HERE), 2)
    t.ok(first.socket.connected, 'the answering connection outlived it all')
  })

  t.test(`${mode}: seed 000 "Integration with REST API", steps 1–7`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const room = await createRoom(app, { name: 'Integration' })
    // Another participant, already in the room (from another IP: each IP has two slots).
    const other = await createUser(app, 'Olga', ELSEWHERE)
    t.equal((await restJoin(app, room.id, other.userId, ELSEWHERE)).statusCode, 200)
    const observer = new SeedClient(t, url, room.id, { ip: ELSEWHERE })
    t.equal((await observer.join(other)).ok, true)

    // 1. Create anonymous user.
    const created = await app.inject({ method: 'POST', url: '/api/public/users', payload: { userName: '  Grace ' } })
    t.equal(created.statusCode, 201, '1. POST /api/public/users')
    const grace = created.json()
    t.match(grace, { userId: /^[0-9a-f-]{36}$/, userName: 'Grace' }, '1. { userId, userName }, name trimmed')
    t.same(Object.keys(grace).sort(), ['userId', 'userName'])

    // 2. Join room through REST.
    const join = await restJoin(app, room.id, grace.userId)
    t.equal(join.statusCode, 200, '2. POST /api/public/rooms/:roomId/join')
    t.match(join.json(), { room: { id: room.id, currentOccupancy: 1 }, member: { userId: grace.userId, userName: 'Grace' } })
    t.ok(isIso(join.json().member.joinedAt))
    t.equal((await restJoin(app, room.id, grace.userId)).statusCode, 200, '2. joining again is idempotent')

    // 3. Connect to the namespace.
    const client = new SeedClient(t, url, room.id)
    await connected(client.socket)
    t.ok(client.socket.connected, '3. connected to /public-room/:roomId')

    // 4. Emit join-room.  5. Other participants receive user-joined.
    const heard = observer.next('user-joined', (e) => e.userId === grace.userId)
    t.equal((await client.join(grace)).ok, true, '4. join-room')
    const joined = await heard
    t.match(joined, { userId: grace.userId, userName: 'Grace', currentOccupancy: 2 }, '5. the other participant hears user-joined')
    t.ok(isIso(joined.joinedAt))
    t.equal(await occupancy(app, room.id), 2, 'GET shows the occupancy')
    const listed = (await app.inject('/api/public/rooms')).json().rooms.find((r: { id: string }) => r.id === room.id)
    t.match(listed, { name: 'Integration', capacity: 10, currentOccupancy: 2 }, 'the list shows the occupancy')

    // 6. Leave through REST.  7. Other participants receive user-left.
    const left = observer.next('user-left')
    const leave = await restLeave(app, room.id, grace.userId)
    t.equal(leave.statusCode, 200, '6. POST /api/public/rooms/:roomId/leave')
    t.match(leave.json(), { left: true, room: { currentOccupancy: 1 } })
    t.same(await left, { userId: grace.userId, currentOccupancy: 1 }, '7. the other participant hears user-left')

    // The leaver's socket left presence and the room's broadcasts, and stays connected.
    await flush(app, room.id, [observer])
    t.ok(client.socket.connected, 'the leaver\'s socket is still connected')
    t.same(client.all('user-left'), [], 'it does not hear its own user-left')
    t.same(observer.all('user-left'), [{ userId: grace.userId, currentOccupancy: 1 }], 'exactly one user-left')
    t.same((await restLeave(app, room.id, grace.userId)).json().left, false, 'leaving twice is not an error')

    // It may come back with join-room, which takes a seat again.
    const back = observer.next('user-joined', (e) => e.userId === grace.userId)
    t.equal((await client.join(grace)).ok, true)
    t.match(await back, { currentOccupancy: 2 })
  })
}
