import t from 'tap'
import { count } from 'drizzle-orm'
import { buildTestApp, connect, connected, modes, servicesSkipReason } from '../helper.js'
import { messages } from '../../src/db/schema/index.js'
import { ChatClient, coreEvent, flush, newUser, testDb } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

for (const mode of modes()) {
  t.test(`${mode}: seed 003's flows: join, users online, send, typing, leave, disconnect`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const alice = await newUser(app, 'Alice A.', `alice${mode}`)
    const bob = await newUser(app, 'Bob B.', `bob${mode}`)
    // `io(SOCKET_URL, { auth: { token: localStorage.getItem('chatflow_token') } })`
    const a = await ChatClient.open(t, url, alice.token)
    const b = await ChatClient.open(t, url, bob.token)

    // Join Room Flow: the code is trimmed and upper-cased; joined_room to the socket, users_online to the room
    a.emit('join_room', '  whisper-42 ')
    t.equal(await a.next('joined_room'), 'WHISPER-42')
    t.same(await a.next('users_online'), [{ userId: alice.user.id, username: `alice${mode}` }])
    b.emit('join_room', 'Whisper-42')
    t.equal(await b.next('joined_room'), 'WHISPER-42')
    const both = [{ userId: alice.user.id, username: `alice${mode}` }, { userId: bob.user.id, username: `bob${mode}` }]
      .sort((x, y) => x.userId.localeCompare(y.userId))
    t.same(await a.next('users_online', (list) => list.length === 2), both)
    t.same(await b.next('users_online'), both)

    // Send Message Flow: `{ content, room, messageType: 'text' }` → new_message to the room, sender included
    a.emit('send_message', { content: '  Hello from Alice  ', room: 'whisper-42', messageType: 'text' })
    const received = await b.next('new_message')
    t.match(received, {
      content: 'Hello from Alice',
      sender: { _id: alice.user.id, username: `alice${mode}`, isOnline: true },
      room: 'WHISPER-42',
      messageType: 'text',
      isEdited: false
    })
    t.type(received._id, 'string')
    t.ok(Date.parse(received.createdAt))
    t.same(await a.next('new_message'), received, 'the sender gets the same message')
    // an unknown messageType becomes 'text' (seed 003), 'system' is kept
    b.emit('send_message', { content: 'odd', room: 'WHISPER-42', messageType: 'poll' })
    t.equal((await a.next('new_message')).messageType, 'text')
    b.emit('send_message', { content: 'sys', room: 'WHISPER-42', messageType: 'system' })
    t.equal((await a.next('new_message')).messageType, 'system')
    // ephemeral: nothing is stored
    const [stored] = await (await testDb(t, mode)).select({ n: count() }).from(messages)
    t.equal(stored.n, 0, 'code-room messages are never stored')

    // Typing: user_typing / user_stop_typing to the others, not to the typist
    a.emit('typing_start', { room: 'whisper-42' })
    t.same(await b.next('user_typing'), { username: `alice${mode}`, userId: alice.user.id })
    a.emit('typing_stop', { room: 'WHISPER-42' })
    t.same(await b.next('user_stop_typing'), { username: `alice${mode}`, userId: alice.user.id })
    await flush(a)
    t.equal(a.count('user_typing') + a.count('user_stop_typing'), 0)

    // Leave Room Flow: left_room to the socket, users_online to the rest
    b.emit('leave_room', 'WHISPER-42')
    t.equal(await b.next('left_room'), 'WHISPER-42')
    t.same(await a.next('users_online', (list) => list.length === 1), [{ userId: alice.user.id, username: `alice${mode}` }])
    t.equal((await b.ack('send_message', { content: 'after leaving', room: 'WHISPER-42' })).error.code, 'NOT_IN_ROOM')

    // Disconnect Handling: the room hears users_online without the user; typing is cleared
    b.emit('join_room', 'whisper-42')
    await a.next('users_online', (list) => list.length === 2)
    b.emit('typing_start', { room: 'whisper-42' })
    await a.next('user_typing')
    b.close()
    t.same(await a.next('user_stop_typing'), { username: `bob${mode}`, userId: bob.user.id }, 'disconnect clears typing')
    t.same(await a.next('users_online', (list) => list.length === 1), [{ userId: alice.user.id, username: `alice${mode}` }])

    // A room with no one left is gone: whoever comes next starts an empty room
    const gone = coreEvent(app, 'disconnect', (e) => e.user.id === alice.user.id)
    a.close()
    await gone
    const c = await ChatClient.open(t, url, bob.token)
    c.emit('join_room', 'WHISPER-42')
    t.same(await c.next('users_online'), [{ userId: bob.user.id, username: `bob${mode}` }], 'nobody left over')
  })

  t.test(`${mode}: seed 003's error handling`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const carol = await newUser(app, 'Carol')
    // `socket.on('connect_error', ...)`: no token → the handshake is refused
    const anonymous = connect(t, url)
    const refused = await connected(anonymous).then(() => null, (err) => err)
    t.equal(refused?.message, 'Authentication error')
    t.equal(refused?.data?.code, 'UNAUTHORIZED')
    const badToken = connect(t, url, { auth: { token: 'not.a.jwt' } })
    t.equal((await connected(badToken).then(() => null, (err) => err))?.data?.code, 'INVALID_TOKEN')

    // `socket.on('error', (data) => toast.error(data.message))`: every error has message and code
    const c = await ChatClient.open(t, url, carol.token)
    c.emit('join_room', '   ')
    t.same(await c.next('error'), { code: 'INVALID_REQUEST', message: 'Room code is required' })
    c.emit('join_room', 'x'.repeat(65))
    t.equal((await c.next('error')).code, 'INVALID_REQUEST')
    c.emit('send_message', { content: 'hi', room: 'NOWHERE' })
    t.same(await c.next('error'), { code: 'NOT_IN_ROOM', message: 'Join the room before sending to it' })
    c.emit('typing_start', { room: 'NOWHERE' })
    t.equal((await c.next('error')).code, 'NOT_IN_ROOM')
    await c.ack('join_room', 'ROOM')
    c.emit('send_message', { content: '   ', room: 'room' })
    t.same(await c.next('error'), { code: 'INVALID_REQUEST', message: 'Message required' })
    c.emit('send_message', { content: 42, room: 'room' })
    t.equal((await c.next('error')).code, 'INVALID_REQUEST', 'content must be a string')
    c.emit('send_message', { room: 'room' })
    t.equal((await c.next('error')).code, 'INVALID_REQUEST')
    c.emit('send_message', 'just a string')
    t.equal((await c.next('error')).code, 'INVALID_REQUEST')
    // still connected and working after all of that
    const ok = await c.ack('send_message', { content: 'fine', room: 'room' })
    t.match(ok, { content: 'fine', room: 'ROOM' })
  })
}
