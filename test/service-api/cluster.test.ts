import t from 'tap'
import { buildTestApp, modes, registerUser, servicesSkipReason } from '../helper.js'
import { claims, hs256 } from '../tokens.js'
import type { ConnectedUser } from '../../src/service-api/types.js'
import { bareApp, crossReady, openClient, serviceEvent } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(`${skip} (two instances need a shared Redis and database)`, async () => {})

const byUser = (users: ConnectedUser[]) => users
  .map((u) => ({ id: u.id, username: u.username, socketIds: [...u.socketIds].sort() }))
  .sort((a, b) => a.id.localeCompare(b.id))

if (modes().includes('services')) {
  t.test('services: two instances give the same answers and reach each other\'s sockets', async (t) => {
    const first = await buildTestApp(t, { mode: 'services' })
    const second = await buildTestApp(t, { mode: 'services', shared: { prefix: first.prefix } })
    const [A, B] = [first.app.realtime, second.app.realtime]
    const one = await registerUser(first.app, 'one_cluster', 'One')
    const two = await registerUser(first.app, 'two_cluster', 'Two')
    const c1 = await openClient(t, first.app, first.url, one.token)
    const c2a = await openClient(t, second.app, second.url, two.token)
    const c2b = await openClient(t, second.app, second.url, two.token)
    await crossReady(first.app, c2a)
    await crossReady(second.app, c1)

    // whoever answers: connected users, online, sockets, stats
    const users = byUser(await A.getConnectedUsers())
    t.same(users, byUser(await B.getConnectedUsers()))
    t.same(users.map((u) => u.username).sort(), ['one_cluster', 'two_cluster'])
    t.same(users.find((u) => u.id === two.user.id)!.socketIds, [c2a.id, c2b.id].sort())
    for (const service of [A, B]) {
      t.equal(await service.isUserOnline(one.user.id), true)
      t.equal(await service.isUserOnline(two.user.id), true)
      t.same((await service.getUserSockets(two.user.id)).sort(), [c2a.id, c2b.id].sort())
    }
    const stats = await A.getStats()
    t.same(await B.getStats(), stats)
    t.match(stats, { totalConnections: 3, activeConnections: 3, onlineUsers: 2 })
    const there = await A.getUser(c2a.id)
    t.same(there, await B.getUser(c2a.id))
    t.not(there!.instanceId, (await A.getUser(c1.id))!.instanceId, 'each socket named with its own instance')

    // broadcastToUsers and emitToSocket from A reach sockets on B
    await A.broadcastToUsers([two.user.id], 'notification', { type: 'friend_request', from: 'One' })
    t.same(await c2a.next('notification'), { type: 'friend_request', from: 'One' })
    t.same(await c2b.next('notification'), { type: 'friend_request', from: 'One' })
    await A.emitToSocket(c2b.id, 'private:message', { from: 'Admin', content: 'Welcome!' })
    t.same(await c2b.next('private:message'), { from: 'Admin', content: 'Welcome!' })
    await B.broadcastToAll('system:announcement', { message: 'from B' }, { except: [c2b.id] })
    t.same(await c1.next('system:announcement'), { message: 'from B' })

    // joinRoom from A of a socket on B: it is in the Socket.IO room there and in presence
    const room = await A.createRoom('cross', 'cluster')
    const joined = serviceEvent(first.app, 'room:join')
    await A.joinRoom(c2a.id, room.id)
    t.same(await c2a.next('user:joined'), { roomId: room.id, userId: two.user.id, username: 'two_cluster' })
    t.match((await joined)[0], { user: { socketId: c2a.id, instanceId: there!.instanceId }, room: { name: 'cross' } }, 'the event fires on the instance that handled it')
    t.same((await B.getRoomMembers(room.id)).map((m) => m.id), [two.user.id])
    c1.emit('room:join', { roomId: room.id })
    t.same(await c2a.next('user:joined', (d) => d.userId === one.user.id), { roomId: room.id, userId: one.user.id, username: 'one_cluster' })
    const sent = await A.sendMessage(room.id, one.user.id, 'hi across')
    t.match(await c2a.next('message'), { id: sent.id, content: 'hi across' })
    const reply = await c2a.ack('message', { roomId: room.id, content: 'hello from B' })
    t.match(reply, { content: 'hello from B', username: 'two_cluster' }, 'the socket B holds may send to the room A put it in')
    t.match(await c1.next('message', (m) => m.content === 'hello from B'), { userId: two.user.id })
    const mark = c1.mark()
    await B.broadcastToRoom(room.id, 'system:announcement', { message: 'room' }, { except: [c1.id] })
    t.same(await c2a.next('system:announcement', (d) => d.message === 'room'), { message: 'room' })
    t.same(await A.getRoomStats(room.id), await B.getRoomStats(room.id))
    t.match(await A.getRoomStats(room.id), { memberCount: 2, socketCount: 2, messageCount: 2 })

    // leaveRoom from A of the socket on B
    await A.leaveRoom(c2a.id, room.id)
    t.same(await c2a.next('user:left'), { roomId: room.id, userId: two.user.id, username: 'two_cluster' })
    t.same(await c1.next('user:left'), { roomId: room.id, userId: two.user.id, username: 'two_cluster' })
    t.notOk(c1.received.slice(mark).some((r) => r.event === 'system:announcement' && r.data.message === 'room'), 'except held across instances')
    t.equal(c2b.all('message').length, 0, 'the other tab was never in the room')

    // disconnectUser from A disconnects both sockets on B
    const reasons: string[] = []
    const bothGone = new Promise<void>((resolve) => {
      B.on('disconnect', (user, reason) => { if (user.id === two.user.id && reasons.push(reason) === 2) resolve() })
    })
    t.equal(await A.disconnectUser(two.user.id, 'banned'), 2)
    t.equal(await c2a.next('disconnect'), 'io server disconnect')
    t.equal(await c2b.next('disconnect'), 'io server disconnect')
    await bothGone
    t.same(reasons, ['banned', 'banned'], 'the reason given on A, reported by B where the sockets were')
    for (const service of [A, B]) {
      t.equal(await service.isUserOnline(two.user.id), false)
      t.same(byUser(await service.getConnectedUsers()).map((u) => u.id), [one.user.id])
      t.match(await service.getStats(), { totalConnections: 3, activeConnections: 1, onlineUsers: 1 })
    }
  })

  t.test('services: the connections of a crashed instance stop counting, and are dropped', async (t) => {
    const ttl = { INSTANCE_TTL_MS: '300' }
    const survivor = await bareApp(t, { mode: 'services', env: ttl, presenceSweepMs: 50 })
    const doomed = await bareApp(t, { mode: 'services', env: ttl, presenceSweepMs: 50, prefix: survivor.prefix })
    const tokenOf = (sub: string) => hs256(claims({ sub, username: sub, name: sub }))
    await openClient(t, survivor.app, survivor.url, tokenOf('stays'))
    await openClient(t, doomed.app, doomed.url, tokenOf('crashes'))
    t.match(await survivor.app.realtime.getStats(), { activeConnections: 2, onlineUsers: 2 })

    // A crash, as the survivor sees it: the instance stops beating (its process is not asked anything).
    const swept = new Promise<void>((resolve) => {
      survivor.app.presence.onSweep((report) => { if (report.instanceId === doomed.app.instanceId) resolve() })
    })
    doomed.app.instances.stopHeartbeat()
    await swept
    t.equal(await survivor.app.realtime.isUserOnline('crashes'), false)
    t.same((await survivor.app.realtime.getConnectedUsers()).map((u) => u.id), ['stays'])
    t.match(await survivor.app.realtime.getStats(), { activeConnections: 1, onlineUsers: 1, totalConnections: 2 })
  })
}
