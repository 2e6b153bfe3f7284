import t from 'tap'
import { buildTestApp, modes, servicesSkipReason } from '../helper.js'
import { bearer, chat, ChatClient, coreEvent, createChannel, flush, newUser } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

for (const mode of modes()) {
  t.test(`${mode}: seed 004's client-side usage against a channel made by the server`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const alice = await newUser(app, 'Alice', `alice${mode}`)
    const bob = await newUser(app, 'Bob', `bob${mode}`)
    // Use case "Chat Application": `const chatRoom = await wsService.createRoom('chat-general', 'chat')`
    const roomId = await createChannel(app, 'chat-general')

    // Connection: `io(url, { path: '/socket.io', query: { username, email } })` plus the token `/` requires
    const a = await ChatClient.open(t, url, alice.token, { path: '/socket.io', query: { username: 'Alice', email: 'alice@example.com' } })
    // Live presence: `user:status` comes for the users a socket watches (CONTRACT §6)
    t.same(await a.ack('presence:subscribe', { userIds: [alice.user.id, bob.user.id] }), {
      ok: true, statuses: [{ userId: alice.user.id, status: 'online' }, { userId: bob.user.id, status: 'offline' }]
    }, 'the ack has each watched user\'s status now')
    const b = await ChatClient.open(t, url, bob.token, { query: { token: bob.token } })
    t.same(await a.next('user:status'), { userId: bob.user.id, status: 'online' }, 'user:status online on the first socket')

    // Joining Rooms: `socket.emit('room:join', { roomId })`
    a.emit('room:join', { roomId })
    t.same(await a.next('user:joined'), { roomId, userId: alice.user.id, username: `alice${mode}` })
    b.emit('room:join', { roomId })
    t.same(await a.next('user:joined'), { roomId, userId: bob.user.id, username: `bob${mode}` }, 'seed: "{username} joined the room"')
    await b.next('user:joined', (d) => d.userId === bob.user.id)

    // Sending Messages: `socket.emit('message', { roomId, content, type: 'text' })`
    a.emit('message', { roomId, content: 'Hello chat!', type: 'text' })
    const msg = await b.next('message')
    t.match(msg, { roomId, seq: 1, userId: alice.user.id, username: `alice${mode}`, content: 'Hello chat!', type: 'text' })
    t.type(msg.id, 'string')
    t.ok(Date.parse(msg.timestamp))
    t.same(await a.next('message'), msg, 'everyone in the room receives it, sender included')
    for (const type of ['image', 'file', 'system'] as const) {
      const stored = await b.ack('message', { roomId, content: `a ${type}`, type })
      t.match(stored, { type, content: `a ${type}`, username: `bob${mode}` })
    }
    t.equal((await b.ack('message', { roomId, content: 'x', type: 'video' })).error.code, 'INVALID_REQUEST')
    t.equal((await b.ack('message', { roomId, content: 'no type' })).type, 'text', 'type defaults to text')

    // Typing Indicators: `socket.emit('typing', { roomId, isTyping })`
    a.emit('typing', { roomId, isTyping: true })
    t.same(await b.next('typing'), { roomId, userId: alice.user.id, username: `alice${mode}`, isTyping: true })
    a.emit('typing', { roomId, isTyping: false })
    t.same(await b.next('typing'), { roomId, userId: alice.user.id, username: `alice${mode}`, isTyping: false })
    await flush(a)
    t.equal(a.count('typing'), 0, 'not to the typist')

    // History kept: REST and the core
    const history = await app.inject({ method: 'GET', url: `/api/channels/${roomId}/messages?limit=2`, headers: bearer(bob.token) })
    t.equal(history.statusCode, 200)
    t.same(history.json().messages.map((m: any) => m.content), ['no type', 'a system'])
    t.equal(history.json().nextCursor, 4)
    const older = await app.inject({ method: 'GET', url: `/api/channels/${roomId}/messages?before=4`, headers: bearer(bob.token) })
    t.same(older.json().messages.map((m: any) => m.content), ['a file', 'a image', 'Hello chat!'])
    t.equal(await chat(app).countMessages(roomId), 5)

    // Room events: user:left on leave (the leaver is told as well)
    b.emit('room:leave', { roomId })
    t.same(await a.next('user:left'), { roomId, userId: bob.user.id, username: `bob${mode}` }, 'seed: "{username} left the room"')
    t.same(await b.next('user:left'), { roomId, userId: bob.user.id, username: `bob${mode}` })
    t.equal((await b.ack('message', { roomId, content: 'outside' })).error.code, 'NOT_IN_ROOM')

    // and on disconnect; user:status offline when the user's last socket goes
    b.emit('room:join', { roomId })
    await a.next('user:joined', (d) => d.userId === bob.user.id)
    b.close()
    t.same(await a.next('user:left'), { roomId, userId: bob.user.id, username: `bob${mode}` })
    t.same(await a.next('user:status', (d) => d.status === 'offline'), { userId: bob.user.id, status: 'offline' })

    // `socket.on('error', (error) => console.error('Error:', error.message))`
    a.emit('room:join', { roomId: 'room-123' })
    t.same(await a.next('error'), { code: 'ROOM_NOT_FOUND', message: 'Room not found' })
    a.emit('room:join', {})
    t.equal((await a.next('error')).code, 'INVALID_REQUEST')
    a.emit('typing', { roomId: 'room-123', isTyping: true })
    t.equal((await a.next('error')).code, 'NOT_IN_ROOM')
  })

  t.test(`${mode}: channels over REST; several tabs; a group id is no channel`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const dan = await newUser(app, 'Dan', `dan${mode}`)
    const eve = await newUser(app, 'Eve', `eve${mode}`)
    t.equal((await app.inject({ method: 'POST', url: '/api/channels', payload: { name: 'x' } })).statusCode, 401)
    const namespace = `lobby-${mode}`
    const created = await app.inject({
      method: 'POST', url: '/api/channels', headers: bearer(dan.token), payload: { name: 'random', namespace, metadata: { topic: 'Anything' } }
    })
    t.equal(created.statusCode, 201)
    const channel = created.json().channel
    t.match(channel, { name: 'random', namespace, createdBy: dan.user.id, metadata: { topic: 'Anything' }, lastSeq: 0 })
    await createChannel(app, 'other', namespace)
    const list = await app.inject({ method: 'GET', url: `/api/channels?namespace=${namespace}`, headers: bearer(eve.token) })
    t.same(list.json().channels.map((c: any) => c.name).sort(), ['other', 'random'])
    t.equal((await app.inject({ method: 'GET', url: '/api/channels/nope', headers: bearer(eve.token) })).json().code, 'ROOM_NOT_FOUND')

    // two tabs of Eve: the second tab's join is confirmed to it alone; user:left only when both left
    const d = await ChatClient.open(t, url, dan.token)
    await d.ack('room:join', { roomId: channel.id })
    const e1 = await ChatClient.open(t, url, eve.token)
    const e2 = await ChatClient.open(t, url, eve.token)
    t.match(await e1.ack('room:join', { roomId: channel.id }), { ok: true, first: true })
    await d.next('user:joined', (x) => x.userId === eve.user.id)
    t.match(await e2.ack('room:join', { roomId: channel.id }), { ok: true, first: false })
    t.same(await e2.next('user:joined'), { roomId: channel.id, userId: eve.user.id, username: `eve${mode}` })
    const detail = await app.inject({ method: 'GET', url: `/api/channels/${channel.id}`, headers: bearer(eve.token) })
    t.equal(detail.json().onlineCount, 2)
    t.match(await e1.ack('room:leave', { roomId: channel.id }), { ok: true, last: false })
    await flush(d)
    t.equal(d.count('user:left'), 0, 'one tab left: Eve is still there')
    const left = coreEvent(app, 'room:leave', (x) => x.last)
    e2.close()
    t.same(await d.next('user:left'), { roomId: channel.id, userId: eve.user.id, username: `eve${mode}` })
    await left
    await flush(d)
    t.equal(d.count('user:left'), 1, 'exactly one user:left')

    // a group is not a channel, and the other way round
    const group = await app.inject({ method: 'POST', url: '/api/groups', headers: bearer(dan.token), payload: { name: 'g' } })
    t.equal((await d.ack('room:join', { roomId: group.json().group.id })).error.code, 'ROOM_NOT_FOUND')
    t.equal((await d.ack('join_group', channel.id)).error.code, 'ROOM_NOT_FOUND')
  })
}
