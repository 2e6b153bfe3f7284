import t from 'tap'
import { buildTestApp, modes, registerUser, servicesSkipReason } from '../helper.js'
import { Client, openClient, serviceEvent } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

/** Seed 004's examples, with `wsService` taken from `app.realtime` and `await` added where the seed calls synchronously. */
for (const mode of modes()) {
  t.test(`${mode}: seed 004's API reference against app.realtime, with seed-004 clients`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const wsService = app.realtime
    const alice = await registerUser(app, `alice_${mode}`, 'Alice')
    const bob = await registerUser(app, `bob_${mode}`, 'Bob')

    // Server-Side Events, as the seed writes them (console.log → log)
    const log: string[] = []
    wsService.on('connection', (user) => { log.push(`User connected: ${user.username}`) })
    wsService.on('disconnect', (user, reason) => { log.push(`User disconnected: ${user.username} (${reason})`) })
    wsService.on('message', (message) => { log.push(`Message in ${message.roomId}: ${message.content}`) })
    wsService.on('room:join', ({ user, room }) => { log.push(`${user.username} joined ${room.name}`) })
    wsService.on('room:leave', ({ user, room }) => { log.push(`${user.username} left ${room.name}`) })

    // Client-Side Usage: Connection (`query` as the seed, the token `/` requires in `auth`)
    const a1 = await openClient(t, app, url, alice.token, { path: '/socket.io', query: { username: 'Alice', email: 'alice@example.com' } })
    const a2 = await openClient(t, app, url, alice.token)
    const b = await openClient(t, app, url, bob.token)
    t.same(log.filter((l) => l.startsWith('User connected')), [
      `User connected: alice_${mode}`, `User connected: alice_${mode}`, `User connected: bob_${mode}`
    ])

    // getUser(socketId)
    const user = await wsService.getUser(a1.id)
    if (user) log.push(`${user.username} ${user.displayName}`)
    t.match(user, { id: alice.user.id, userId: alice.user.id, socketId: a1.id, username: `alice_${mode}`, displayName: 'Alice', instanceId: String })
    t.ok(user!.connectedAt instanceof Date && user!.lastActivity instanceof Date)
    t.equal(await wsService.getUser('no-such-socket'), null)

    // getConnectedUsers()
    const users = await wsService.getConnectedUsers()
    t.equal(`${users.length} users online`, '2 users online')
    t.same(users.find((u) => u.id === alice.user.id)!.socketIds.sort(), [a1.id, a2.id].sort(), 'one entry per user, every tab listed')

    // isUserOnline(userId), getUserSockets(userId)
    t.equal(await wsService.isUserOnline(alice.user.id), true)
    t.equal(await wsService.isUserOnline('someone-else'), false)
    const sockets = await wsService.getUserSockets(alice.user.id)
    t.equal(`User has ${sockets.length} active connections`, 'User has 2 active connections')

    // createRoom(name, namespace?, createdBy?, metadata?)
    const room = await wsService.createRoom('general-chat', 'default', alice.user.id, { topic: 'General Discussion', public: true })
    t.match(room, { name: 'general-chat', namespace: 'default', createdBy: alice.user.id, metadata: { topic: 'General Discussion', public: true } })
    const roomId = room.id

    // getRoom(roomId): `console.log(room.name, room.members.size)`
    const found = await wsService.getRoom(roomId)
    t.same([found!.name, found!.members.size], ['general-chat', 0])
    t.equal(await wsService.getRoom('room-123'), null)

    // listRooms(namespace?)
    const chatRoom = await wsService.createRoom('chat-general', 'chat')
    const allRooms = await wsService.listRooms()
    const chatRooms = await wsService.listRooms('chat')
    t.ok(allRooms.some((r) => r.id === roomId) && allRooms.some((r) => r.id === chatRoom.id))
    t.ok(chatRooms.some((r) => r.id === chatRoom.id))
    t.notOk(chatRooms.some((r) => r.id === roomId), 'filtered by namespace')

    // joinRoom(socketId, roomId): the server puts the socket in the room; it hears `user:joined`
    const joinEvent = serviceEvent(app, 'room:join')
    await wsService.joinRoom(a1.id, roomId)
    t.same(await a1.next('user:joined'), { roomId, userId: alice.user.id, username: `alice_${mode}` })
    const [{ user: joiner, room: joinedRoom }] = await joinEvent
    t.match(joiner, { id: alice.user.id, socketId: a1.id })
    t.equal(joinedRoom.name, 'general-chat')
    t.ok(log.includes(`alice_${mode} joined general-chat`))

    // Joining Rooms, client side: `socket.emit('room:join', { roomId })`
    b.emit('room:join', { roomId })
    t.same(await a1.next('user:joined', (d) => d.userId === bob.user.id), { roomId, userId: bob.user.id, username: `bob_${mode}` })
    t.equal((await wsService.getRoom(roomId))!.members.size, 2)

    // getRoomMembers(roomId): `members.forEach((user) => console.log(user.username))`
    const members = await wsService.getRoomMembers(roomId)
    const names: string[] = []
    members.forEach((user) => names.push(user.username))
    t.same(names.sort(), [`alice_${mode}`, `bob_${mode}`])

    // sendMessage(roomId, userId, content, type?, metadata?): stored, and `message` to the room
    const message = await wsService.sendMessage(roomId, alice.user.id, 'Hello everyone!', 'text', { edited: false })
    t.match(message, { roomId, userId: alice.user.id, username: `alice_${mode}`, content: 'Hello everyone!', type: 'text', metadata: { edited: false } })
    // Sending Messages, client side: `socket.on('message', (message) => console.log(`${message.username}: ${message.content}`))`
    const heard = await b.next('message')
    t.equal(`${heard.username}: ${heard.content}`, `alice_${mode}: Hello everyone!`)
    const { metadata: _metadata, ...wire } = message
    t.same(heard, wire, 'the stored message is what the room received')
    t.same(await a1.next('message'), heard)
    t.ok(log.includes(`Message in ${roomId}: Hello everyone!`))
    const system = await wsService.sendMessage(roomId, null, 'Server restarts soon', 'system')
    t.match(system, { userId: null, username: 'system', type: 'system' })
    for (const content of ['m1', 'm2', 'm3']) await wsService.sendMessage(roomId, bob.user.id, content)
    await t.rejects(wsService.sendMessage(roomId, alice.user.id, 'x', 'video' as 'text'), { code: 'INVALID_REQUEST' })
    await t.rejects(wsService.sendMessage(roomId, alice.user.id, '   '), { code: 'INVALID_REQUEST' })
    await t.rejects(wsService.sendMessage('room-123', alice.user.id, 'x'), { code: 'ROOM_NOT_FOUND' })

    // getRoomMessages(roomId, limit?, offset?): the last page, oldest first
    const recentMessages = await wsService.getRoomMessages(roomId, 50)
    t.same(recentMessages.map((m) => m.content), ['Hello everyone!', 'Server restarts soon', 'm1', 'm2', 'm3'])
    t.same(recentMessages[0].metadata, { edited: false })
    t.same(await wsService.getRoomMessages(roomId, 50, 50), [])
    t.same((await wsService.getRoomMessages(roomId, 2)).map((m) => m.content), ['m2', 'm3'])
    t.same((await wsService.getRoomMessages(roomId, 2, 2)).map((m) => m.content), ['Server restarts soon', 'm1'])

    // Typing Indicators (client side) still work in a room joined by the server
    a1.emit('typing', { roomId, isTyping: true })
    t.same(await b.next('typing'), { roomId, userId: alice.user.id, username: `alice_${mode}`, isTyping: true })

    // broadcastToRoom(roomId, event, data, { except })
    await wsService.broadcastToRoom(roomId, 'user:joined', { username: 'Alice', timestamp: new Date() })
    t.match(await b.next('user:joined', (d) => d.username === 'Alice'), { username: 'Alice', timestamp: String })
    const messageData = { roomId, content: 'from the server' }
    const before = a1.mark()
    await wsService.broadcastToRoom(roomId, 'message', messageData, { except: [a1.id] })
    t.same(await b.next('message', (d) => d.content === 'from the server'), messageData)
    await wsService.broadcastToRoom(roomId, 'marker', 1)
    await a1.next('marker', () => true, before)
    t.notOk(a1.received.slice(before).some((r) => r.data?.content === 'from the server'), 'the excepted socket did not get it')
    t.notOk(a2.all('marker').length, 'a socket outside the room gets no room broadcast')

    // broadcastToUsers(userIds, event, data): every socket of those users
    const markB = b.mark()
    await wsService.broadcastToUsers([alice.user.id], 'notification', { type: 'friend_request', from: 'Alice' })
    t.same(await a1.next('notification'), { type: 'friend_request', from: 'Alice' })
    t.same(await a2.next('notification'), { type: 'friend_request', from: 'Alice' })
    await wsService.broadcastToUsers([], 'notification', { nobody: true })

    // broadcastToAll(event, data, { except })
    await wsService.broadcastToAll('system:announcement', { message: 'Server maintenance in 5 minutes' })
    for (const c of [a1, a2, b]) t.same(await c.next('system:announcement'), { message: 'Server maintenance in 5 minutes' })
    t.equal(b.received.slice(markB).filter((r) => r.event === 'notification').length, 0, 'not to other users; [] reaches nobody')
    const markUpdate = b.mark()
    await wsService.broadcastToAll('update', { v: 2 }, { except: [b.id] })
    await wsService.broadcastToAll('marker', 2)
    t.same(await a1.next('update'), { v: 2 })
    t.same(await a2.next('update'), { v: 2 })
    await b.next('marker', (d) => d === 2, markUpdate)
    t.notOk(b.received.slice(markUpdate).some((r) => r.event === 'update'))

    // emitToSocket(socketId, event, data)
    await wsService.emitToSocket(a2.id, 'private:message', { from: 'Admin', content: 'Welcome!' })
    t.same(await a2.next('private:message'), { from: 'Admin', content: 'Welcome!' })
    t.equal(a1.all('private:message').length, 0)
    await t.rejects(wsService.emitToSocket('no-such-socket', 'x', 1), { code: 'SOCKET_NOT_FOUND' })
    await t.rejects(wsService.broadcastToAll('disconnect', {}), { code: 'INVALID_REQUEST' }, 'reserved event names are refused')
    await t.rejects(wsService.broadcastToRoom('room-123', 'x', 1), { code: 'ROOM_NOT_FOUND' })

    // getStats()
    const stats = await wsService.getStats()
    const summary = `Total connections: ${stats.totalConnections}, Active connections: ${stats.activeConnections}, Total rooms: ${stats.totalRooms}`
    t.equal(summary, `Total connections: 3, Active connections: 3, Total rooms: ${stats.totalRooms}`)
    t.ok(stats.totalRooms >= 2)
    t.equal(stats.onlineUsers, 2)
    t.ok(stats.totalMessages >= 5)

    // getRoomStats(roomId)
    const roomStats = await wsService.getRoomStats(roomId)
    t.match(roomStats, { roomId, name: 'general-chat', memberCount: 2, socketCount: 2, messageCount: 5 })
    t.ok(roomStats!.createdAt instanceof Date && roomStats!.lastActivity.getTime() >= roomStats!.createdAt.getTime())
    t.equal(await wsService.getRoomStats('room-123'), null)

    // leaveRoom(socketId, roomId)
    const leaveEvent = serviceEvent(app, 'room:leave')
    await wsService.leaveRoom(b.id, roomId)
    t.same(await b.next('user:left'), { roomId, userId: bob.user.id, username: `bob_${mode}` })
    t.same(await a1.next('user:left'), { roomId, userId: bob.user.id, username: `bob_${mode}` })
    await leaveEvent
    t.ok(log.includes(`bob_${mode} left general-chat`))
    t.equal((await b.ack('message', { roomId, content: 'outside' })).error.code, 'NOT_IN_ROOM', 'the socket really left')

    // disconnectUser(userId, reason?)
    const bobSocketId = b.id
    const gone = serviceEvent(app, 'disconnect', (u) => u.id === bob.user.id)
    t.equal(await wsService.disconnectUser(bob.user.id, 'violation_of_terms'), 1)
    t.equal(await b.next('disconnect'), 'io server disconnect')
    const [goneUser, reason] = await gone
    t.match(goneUser, { id: bob.user.id, socketId: bobSocketId })
    t.equal(reason, 'violation_of_terms')
    t.ok(log.includes(`User disconnected: bob_${mode} (violation_of_terms)`))
    t.equal(await wsService.isUserOnline(bob.user.id), false)
    t.equal(await wsService.disconnectUser(bob.user.id), 0)

    // deleteRoom(roomId): its sockets are told and taken out
    t.equal(await wsService.deleteRoom(roomId), true)
    t.same(await a1.next('room:deleted'), { roomId })
    t.equal(await wsService.getRoom(roomId), null)
    t.equal(await wsService.deleteRoom(roomId), false)
    t.same(await wsService.getRoomMessages(roomId), [])
  })

  t.test(`${mode}: seed 004's use cases: chat application, real-time notifications, live presence`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const wsService = app.realtime
    const ann = await registerUser(app, `ann_${mode}`, 'Ann')
    const ben = await registerUser(app, `ben_${mode}`, 'Ben')
    const cid = await registerUser(app, `cid_${mode}`, 'Cid')

    // Live Presence, server side: "Server broadcast status changes" (roomwire itself sends
    // user:status only to the sockets that watch a user, CONTRACT §6)
    wsService.on('connection', (user) => {
      wsService.broadcastToAll('user:status', { userId: user.id, status: 'online' }).catch(t.error)
    })
    wsService.on('disconnect', (user) => {
      wsService.broadcastToAll('user:status', { userId: user.id, status: 'offline' }).catch(t.error)
    })

    // Chat Application
    const chatRoom = await wsService.createRoom('chat-general', 'chat')
    const annSocket = await openClient(t, app, url, ann.token)
    const benSocket = await openClient(t, app, url, ben.token)
    const displayed: Record<string, string[]> = { ann: [], ben: [] }
    annSocket.socket.on('message', (msg) => { displayed.ann.push(`${msg.username}: ${msg.content}`) })
    benSocket.socket.on('message', (msg) => { displayed.ben.push(`${msg.username}: ${msg.content}`) })
    annSocket.emit('room:join', { roomId: chatRoom.id })
    await annSocket.next('user:joined')
    benSocket.emit('room:join', { roomId: chatRoom.id })
    await annSocket.next('user:joined', (d) => d.userId === ben.user.id)
    annSocket.emit('message', { roomId: chatRoom.id, content: 'Hello chat!', type: 'text' })
    await benSocket.next('message')
    await annSocket.next('message')
    t.same(displayed, { ann: [`ann_${mode}: Hello chat!`], ben: [`ann_${mode}: Hello chat!`] }, 'everyone in room receives')
    t.same((await wsService.getRoomMessages(chatRoom.id)).map((m) => m.content), ['Hello chat!'], 'kept in history')

    // Real-Time Notifications
    const shown: unknown[] = []
    benSocket.socket.on('notification', (notification) => { shown.push(notification) })
    await wsService.broadcastToUsers([ben.user.id], 'notification', { type: 'friend_request', from: 'Alice', timestamp: new Date() })
    t.match(await benSocket.next('notification'), { type: 'friend_request', from: 'Alice', timestamp: String })
    t.equal(shown.length, 1)
    t.equal(annSocket.all('notification').length, 0, 'only the user it was meant for')

    // Live Presence, client side: `socket.on('user:status', (data) => updateUserPresence(data.userId, data.status))`
    const presence = new Map<string, string>()
    annSocket.socket.on('user:status', (data) => { presence.set(data.userId, data.status) })
    const cidSocket = await openClient(t, app, url, cid.token)
    await annSocket.next('user:status', (d) => d.userId === cid.user.id && d.status === 'online')
    t.equal(presence.get(cid.user.id), 'online')
    await wsService.broadcastToAll('user:status', { userId: cid.user.id, status: 'away' })
    await annSocket.next('user:status', (d) => d.userId === cid.user.id && d.status === 'away')
    t.equal(presence.get(cid.user.id), 'away')
    cidSocket.close()
    await annSocket.next('user:status', (d) => d.userId === cid.user.id && d.status === 'offline')
    t.equal(presence.get(cid.user.id), 'offline', 'online, away, offline')
  })

  t.test(`${mode}: joinRoom and leaveRoom refuse what is not there; client errors as the seed shows them`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const wsService = app.realtime
    const dee = await registerUser(app, `dee_${mode}`, 'Dee')
    const socket = await openClient(t, app, url, dee.token)
    const room = await wsService.createRoom('lobby', `ns-${mode}`)
    await t.rejects(wsService.joinRoom('no-such-socket', room.id), { code: 'SOCKET_NOT_FOUND' })
    await t.rejects(wsService.joinRoom(socket.id, 'room-123'), { code: 'ROOM_NOT_FOUND' })
    await t.rejects(wsService.leaveRoom(socket.id, 'room-123'), { code: 'ROOM_NOT_FOUND' })
    await t.rejects(wsService.createRoom('   '), { code: 'INVALID_REQUEST' })
    await t.rejects(wsService.getRoomMessages(room.id, 0), { code: 'INVALID_REQUEST' })
    await t.rejects(wsService.cleanup(-1), { code: 'INVALID_REQUEST' })
    // a group is not a seed-004 room
    const group = await app.inject({ method: 'POST', url: '/api/groups', headers: { authorization: `Bearer ${dee.token}` }, payload: { name: 'g' } })
    t.equal(await wsService.getRoom(group.json().group.id), null)
    t.equal(await wsService.deleteRoom(group.json().group.id), false, 'deleteRoom leaves groups alone')

    // `socket.on('error', (error) => console.error('Error:', error.message))`
    socket.emit('room:join', { roomId: 'room-123' })
    t.same(await socket.next('error'), { code: 'ROOM_NOT_FOUND', message: 'Room not found' })
    // a socket of another namespace is not a `/` connection
    t.equal((await wsService.getConnectedUsers()).length, 1)
    const stranger = new Client(t, url, 'not-a-token')
    t.equal((await stranger.next('connect_error')).data.code, 'INVALID_TOKEN')
  })
}
