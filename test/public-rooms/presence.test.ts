import { randomUUID } from 'node:crypto'
import t from 'tap'
import { buildTestApp, connected, modes, servicesSkipReason } from '../helper.js'
import { createRoom, createUser, ELSEWHERE, flush, HERE, occupancy, restLeave, SeedClient } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

for (const mode of modes()) {
  t.test(`${mode}: two tabs of one user count once and leave with the last`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const room = await createRoom(app)
    const ann = await createUser(app, 'Ann')
    const obi = await createUser(app, 'Obi', ELSEWHERE)
    const observer = new SeedClient(t, url, room.id, { ip: ELSEWHERE })
    t.equal((await observer.join(obi)).ok, true)

    const tab1 = new SeedClient(t, url, room.id)
    const tab2 = new SeedClient(t, url, room.id)
    const heard = observer.next('user-joined', (e) => e.userId === ann.userId)
    t.equal((await tab1.join(ann)).ok, true)
    t.match(await heard, { userName: 'Ann', currentOccupancy: 2 }, 'the room hears the first tab')

    const self = tab2.next('user-joined')
    t.match(await tab2.join(ann), { ok: true, userId: ann.userId, currentOccupancy: 2 }, 'the second tab joins')
    t.match(await self, { userId: ann.userId, userName: 'Ann', currentOccupancy: 2 }, 'and alone hears its user-joined')
    t.equal(await occupancy(app, room.id), 2, 'Ann counts once')
    t.match(await tab1.join(ann), { ok: true, currentOccupancy: 2 }, 'join-room again on a tab changes nothing')
    await flush(app, room.id, [observer, tab1, tab2])
    t.equal(observer.all('user-joined').filter((e) => e.userId === ann.userId).length, 1, 'the room heard Ann join once')

    // The first tab leaves explicitly: Ann is still there.
    t.same(await tab1.leave(ann.userId), { ok: true })
    t.equal(await tab1.next('disconnect', () => true, { from: 0 }), 'io server disconnect', 'leave-room disconnects the tab')
    t.equal(await occupancy(app, room.id), 2, 'still there through the second tab')
    await flush(app, room.id, [observer, tab2])
    t.same(observer.all('user-left'), [], 'no user-left while a tab remains')

    // A third tab comes and goes by disconnecting: still no user-left.
    const tab3 = new SeedClient(t, url, room.id)
    t.equal(await tab3.joinOrRefusal(ann), 'joined')
    tab3.socket.disconnect()
    // The last tab disconnects: now the room hears it, once.
    const left = observer.next('user-left')
    tab2.socket.disconnect()
    t.same(await left, { userId: ann.userId, currentOccupancy: 1 }, 'user-left with the last tab')
    t.equal(await occupancy(app, room.id), 1)
    await flush(app, room.id, [observer])
    t.same(observer.all('user-left'), [{ userId: ann.userId, currentOccupancy: 1 }], 'exactly one user-left')
    t.same(observer.all('user-joined').map((e) => e.userId), [obi.userId, ann.userId], 'and one user-joined')
  })

  t.test(`${mode}: the IP limit is per IP`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const room = await createRoom(app)
    const ann = await createUser(app, 'Ann')
    const eve = await createUser(app, 'Eve', ELSEWHERE)
    const here = [new SeedClient(t, url, room.id), new SeedClient(t, url, room.id)]
    for (const client of here) t.equal(await client.joinOrRefusal(ann), 'joined')
    const refused = new SeedClient(t, url, room.id)
    t.equal(await refused.joinOrRefusal(ann), 'TOO_MANY_CONNECTIONS', 'a third connection from 127.0.0.1 is refused')

    const there = new SeedClient(t, url, room.id, { ip: ELSEWHERE })
    t.equal(await there.joinOrRefusal(eve), 'joined', 'another IP is not affected')
    const alsoThere = new SeedClient(t, url, room.id, { ip: ELSEWHERE })
    t.equal(await alsoThere.joinOrRefusal(eve), 'joined', 'and has two slots of its own')
    t.equal(await app.getConnectionCount(HERE), 2)
    t.equal(await app.getConnectionCount(`::ffff:${HERE}`), 2, 'an IPv4-mapped address is the same IP')
    t.equal(await app.getConnectionCount(ELSEWHERE), 2)
    t.equal(await app.getConnectionCount('10.9.8.7'), 0)

    // The limit spans rooms: it is per IP, not per room.
    const otherRoom = await createRoom(app)
    const elsewhere = new SeedClient(t, url, otherRoom.id)
    t.equal(await elsewhere.joinOrRefusal(ann), 'TOO_MANY_CONNECTIONS', 'in another room too')
    t.equal(await occupancy(app, room.id), 2)
  })

  t.test(`${mode}: a REST leave takes the user's sockets out of the room`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const room = await createRoom(app)
    const ann = await createUser(app, 'Ann')
    const obi = await createUser(app, 'Obi', ELSEWHERE)
    const observer = new SeedClient(t, url, room.id, { ip: ELSEWHERE })
    t.equal((await observer.join(obi)).ok, true)
    const tabs = [new SeedClient(t, url, room.id), new SeedClient(t, url, room.id)]
    for (const tab of tabs) t.equal((await tab.join(ann)).ok, true)
    t.equal(await occupancy(app, room.id), 2)

    const left = observer.next('user-left')
    const leave = await restLeave(app, room.id, ann.userId)
    t.match(leave.json(), { left: true, room: { currentOccupancy: 1 } })
    t.same(await left, { userId: ann.userId, currentOccupancy: 1 })

    // Both tabs are out of presence and of the room's broadcasts, still connected.
    app.broadcastToPublicRoom(room.id, 'room-update', { message: 'Room capacity changed' })
    t.same(await observer.next('room-update'), { message: 'Room capacity changed' }, 'broadcastToPublicRoom reaches participants')
    await flush(app, room.id, [observer])
    for (const tab of tabs) {
      t.ok(tab.socket.connected)
      t.same(tab.all('room-update'), [], 'an evicted tab no longer hears the room')
      t.same(tab.all('user-left'), [])
    }
    t.same(observer.all('user-left'), [{ userId: ann.userId, currentOccupancy: 1 }], 'one user-left for both tabs')

    // A tab may join again; its later disconnect is a normal leave.
    const back = observer.next('user-joined', (e) => e.userId === ann.userId)
    t.equal((await tabs[0].join(ann)).ok, true)
    t.match(await back, { currentOccupancy: 2 })
    const gone = observer.next('user-left')
    tabs[0].socket.disconnect()
    t.same(await gone, { userId: ann.userId, currentOccupancy: 1 })
    // The other tab left presence already: its leave-room announces nothing and disconnects it.
    t.same(await tabs[1].leave(ann.userId), { ok: true })
    t.equal(await tabs[1].next('disconnect', () => true, { from: 0 }), 'io server disconnect')
    await flush(app, room.id, [observer])
    t.equal(observer.all('user-left').length, 2)
  })

  t.test(`${mode}: helpers and sockets that never join`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const room = await createRoom(app)
    const ann = await createUser(app, 'Ann')
    const lurker = new SeedClient(t, url, room.id)
    const member = new SeedClient(t, url, room.id, { ip: ELSEWHERE })
    await connected(lurker.socket)
    t.equal((await member.join(await createUser(app, 'Mia', ELSEWHERE))).ok, true)
    t.equal(await occupancy(app, room.id), 1, 'a connected socket that did not join is not an occupant')

    app.broadcastToPublicRoom(room.id, 'notice', { n: 1 })
    t.same(await member.next('notice'), { n: 1 })
    app.broadcastToPublicRoom('not-a-room', 'notice', { n: 2 })
    app.broadcastToPublicRoom(randomUUID(), 'notice', { n: 3 })
    app.broadcastToPublicRoom(room.id, 'notice', { n: 4 })
    t.same(await member.next('notice'), { n: 4 }, 'other rooms\' broadcasts do not arrive here')
    t.same(lurker.all('notice'), [], 'a socket that did not join hears no room broadcast')

    // A lurker's leave-room just disconnects it; nobody hears anything.
    t.same(await lurker.leave(ann.userId), { ok: true })
    t.equal(await lurker.next('disconnect', () => true, { from: 0 }), 'io server disconnect')
    await flush(app, room.id, [member])
    t.same(member.all('user-left'), [])
    // The slot of a disconnected socket is free at once.
    t.equal(await app.getConnectionCount(HERE), 0)

    // stopHealthChecks stops the idle ping. Two apps pinging every 20 ms, each with a client
    // that never answers: the one of the stopped app outlives the other one's timeout.
    const stopped = await buildTestApp(t, { mode, env: { PUBLIC_PING_IDLE_MS: '20' } })
    const running = await buildTestApp(t, { mode, env: { PUBLIC_PING_IDLE_MS: '20' } })
    const silent = new SeedClient(t, stopped.url, (await createRoom(stopped.app)).id)
    silent.answerPings = false
    await silent.next('ping', () => true, { from: 0 })
    stopped.app.stopHealthChecks()
    const pingsAtStop = silent.pings
    const witness = new SeedClient(t, running.url, (await createRoom(running.app)).id)
    witness.answerPings = false
    t.equal((await witness.next('error', () => true, { from: 0 })).code, 'CONNECTION_TIMEOUT', 'the running sweep times out its client')
    t.ok(silent.socket.connected, 'the stopped one does not')
    t.ok(silent.pings - pingsAtStop <= 1, 'and sends no more pings (one may have been in flight)')
    t.same(silent.all('error'), [])
  })
}
