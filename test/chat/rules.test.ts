import t from 'tap'
import { and, count, eq } from 'drizzle-orm'
import { buildTestApp, connected, modes, servicesSkipReason } from '../helper.js'
import { chatRooms, messages } from '../../src/db/schema/index.js'
import { bearer, chat, ChatClient, coreEvent, createChannel, createGroup, flush, newUser, testDb } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

// Every way a page can mangle text: tags, entities, quotes, a javascript: URL, an on*= handler.
const HTML = '<script>alert("x")</script><img src=x onerror=alert(1)> <iframe src="javascript:alert(2)"></iframe> ' +
  '&lt;b&gt; &amp; "double" \'single\' `back` <b onclick = "x()">bold</b> \\ \u00e9\u{1F600} \u200b'

for (const mode of modes()) {
  t.test(`${mode}: rate limit, length limit, non-member and not-joined sends, each with its code`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { CHAT_MESSAGES_PER_MINUTE: '5', CHAT_MAX_LENGTH: '10' } })
    const owner = await newUser(app, 'Owner')
    const member = await newUser(app, 'Member')
    const outsider = await newUser(app, 'Outsider')
    const groupId = await createGroup(app, owner, [member])
    const o = await ChatClient.open(t, url, owner.token)
    const m = await ChatClient.open(t, url, member.token)
    const x = await ChatClient.open(t, url, outsider.token)
    await o.ack('join_group', groupId)

    // length: 1..CHAT_MAX_LENGTH characters after trimming; characters are code points
    t.match(await o.ack('send_message', { groupId, content: '  0123456789  ' }), { content: '0123456789' }, '10 characters, trimmed')
    t.match(await o.ack('send_message', { groupId, content: '\u{1F600}'.repeat(10) }), { content: '\u{1F600}'.repeat(10) }, '10 emoji are 10 characters')
    o.emit('send_message', { groupId, content: '01234567890' })
    t.same(await o.next('error'), { code: 'MESSAGE_TOO_LONG', message: 'Message too long (max 10 chars)' })
    t.equal((await o.ack('send_message', { groupId, content: ' \n\t ' })).error.code, 'INVALID_REQUEST', 'empty after trimming')

    // membership and joining
    t.same((await x.ack('send_message', { groupId, content: 'hi' })).error,
      { code: 'NOT_A_MEMBER', message: 'You are not a member of this group' }, 'a non-member')
    t.same((await m.ack('send_message', { groupId, content: 'hi' })).error,
      { code: 'NOT_IN_ROOM', message: 'Join the room before sending to it' }, 'a member that has not joined')
    t.equal((await m.ack('typing_start', { groupId })).error.code, 'NOT_IN_ROOM')
    t.equal((await m.ack('send_message', { groupId: '6a0d3a3c-3b8e-4c55-9a53-8e1ef0f6d2c1', content: 'hi' })).error.code, 'ROOM_NOT_FOUND')
    const channelId = await createChannel(app)
    t.equal((await m.ack('message', { roomId: channelId, content: 'hi' })).error.code, 'NOT_IN_ROOM', 'a channel not joined')
    t.equal((await m.ack('send_message', { room: 'abc', content: 'hi' })).error.code, 'NOT_IN_ROOM', 'a code room not joined')

    // CHAT_MESSAGES_PER_MINUTE per user, across vocabularies: 2 sent above (failed sends count too)
    const limited = await ChatClient.open(t, url, outsider.token)
    await limited.ack('join_room', 'limits')
    await limited.ack('room:join', { roomId: channelId })
    // the outsider used 1 of 5 above; 4 more go through
    t.match(await limited.ack('send_message', { room: 'limits', content: '1' }), { content: '1' })
    t.match(await limited.ack('message', { roomId: channelId, content: '2' }), { content: '2' })
    t.match(await limited.ack('send_message', { room: 'limits', content: '3' }), { content: '3' })
    t.match(await x.ack('send_message', { room: 'limits', content: '4' }), { error: { code: 'NOT_IN_ROOM' } })
    limited.emit('message', { roomId: channelId, content: 'over' })
    t.same(await limited.next('error'), { code: 'RATE_LIMITED', message: 'Too many requests. Slow down.' })
    t.equal((await x.ack('send_message', { groupId, content: 'over' })).error.code, 'RATE_LIMITED', 'per user, not per socket')
    t.match(await o.ack('send_message', { groupId, content: 'others ok' }), { content: 'others ok' }, 'other users are not limited')

    const db = await testDb(t, mode)
    const [stored] = await db.select({ n: count() }).from(messages).where(eq(messages.senderId, outsider.user.id))
    t.equal(stored.n, 1, 'only the one channel message of the outsider was stored')

    // The service API's group send checks membership inside the insert: a refused send takes no seq.
    const seqOf = async () => (await db.select({ lastSeq: chatRooms.lastSeq }).from(chatRooms).where(eq(chatRooms.id, groupId)))[0].lastSeq
    const before = await seqOf()
    const group = { kind: 'group' as const, id: groupId }
    await t.rejects(chat(app).send({ room: group, sender: outsider.user, content: 'let me in' }), { code: 'NOT_A_MEMBER' }, 'a non-member through the service API')
    t.equal(await seqOf(), before, 'the refused send took no seq')
    await t.rejects(chat(app).send({ room: { kind: 'group', id: '6a0d3a3c-3b8e-4c55-9a53-8e1ef0f6d2c1' }, sender: member.user, content: 'x' }), { code: 'ROOM_NOT_FOUND' })
    t.match(await chat(app).send({ room: group, sender: member.user, content: 'a member' }), { message: { seq: before + 1 }, duplicate: false })
    t.match(await chat(app).send({ room: group, sender: outsider.user, content: 'forced', force: true }), { message: { seq: before + 2 } }, 'force skips the check')
  })

  t.test(`${mode}: idempotent clientMessageId, HTML round trip, replies`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const owner = await newUser(app, 'Owner')
    const member = await newUser(app, 'Member')
    const groupId = await createGroup(app, owner, [member])
    const o = await ChatClient.open(t, url, owner.token)
    const m = await ChatClient.open(t, url, member.token)
    await o.ack('join_group', groupId)
    await m.ack('join_group', groupId)

    const first = await o.ack('send_message', { groupId, content: 'once', clientMessageId: 'c-1' })
    const again = await o.ack('send_message', { groupId, content: 'once (retry)', clientMessageId: 'c-1' })
    t.same(again, first, 'a repeated clientMessageId returns the first message')
    // two at the same time with a new id: still one
    const [r1, r2] = await Promise.all([
      o.ack('send_message', { groupId, content: 'race', clientMessageId: 'c-2' }),
      o.ack('send_message', { groupId, content: 'race', clientMessageId: 'c-2' })
    ])
    t.equal(r1.id, r2.id)
    t.equal(r1.seq, 2, 'no seq was used up by the duplicate')
    // the same clientMessageId from another sender is another message
    const other = await m.ack('send_message', { groupId, content: 'mine', clientMessageId: 'c-1' })
    t.not(other.id, first.id)
    t.equal(other.seq, 3)
    const barrier = await o.ack('send_message', { groupId, content: 'barrier' })
    await m.next('message_received', (msg) => msg.id === barrier.id)
    t.same(m.all('message_received').map(msg => msg.content), ['once', 'race', 'mine', 'barrier'], 'one broadcast each')
    const db = await testDb(t, mode)
    const [rows] = await db.select({ n: count() }).from(messages).where(and(eq(messages.senderId, owner.user.id), eq(messages.clientMessageId, 'c-1')))
    t.equal(rows.n, 1, 'one row')

    // HTML and script content: stored and sent exactly as given, in every vocabulary
    const html = await o.ack('send_message', { groupId, content: `  ${HTML}  ` })
    t.equal(html.content, HTML)
    t.equal((await m.next('message_received', (msg) => msg.id === html.id)).content, HTML, 'broadcast untouched')
    const page = await app.inject({ method: 'GET', url: `/api/groups/${groupId}/messages?limit=1`, headers: bearer(member.token) })
    t.equal(page.json().messages[0].content, HTML, 'history untouched')
    await o.ack('join_room', 'html')
    t.equal((await o.ack('send_message', { room: 'html', content: HTML })).content, HTML, 'seed 003 vocabulary untouched (no sanitizing)')
    const channelId = await createChannel(app)
    await o.ack('room:join', { roomId: channelId })
    t.equal((await o.ack('message', { roomId: channelId, content: HTML })).content, HTML, 'seed 004 vocabulary untouched')

    // replyToId must be a message of the same group
    t.equal((await o.ack('send_message', { groupId, content: 'r', replyToId: '6a0d3a3c-3b8e-4c55-9a53-8e1ef0f6d2c1' })).error.code, 'INVALID_REQUEST')
    t.equal((await o.ack('send_message', { groupId, content: 'r', replyToId: 'nope' })).error.code, 'INVALID_REQUEST')
    t.equal((await o.ack('send_message', { groupId, content: 'r', replyToId: first.id })).replyToId, first.id)
  })

  t.test(`${mode}: multi-tab: one tab closed, no user_left_group; both closed, exactly one`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const owner = await newUser(app, 'Owner')
    const tabs = await newUser(app, 'Two Tabs')
    const groupId = await createGroup(app, owner, [tabs])
    const o = await ChatClient.open(t, url, owner.token)
    await o.ack('join_group', groupId)
    const tab1 = await ChatClient.open(t, url, tabs.token)
    const tab2 = await ChatClient.open(t, url, tabs.token)
    await tab1.ack('join_group', groupId)
    await o.next('user_joined_group')
    const second = await tab2.ack('join_group', groupId)
    t.equal(second.onlineCount, 2, 'two users online')
    await flush(o)
    t.equal(o.count('user_joined_group'), 1, 'joined once for two tabs')
    t.equal((await o.ack('get_room_info', { groupId })).socketCount, 3)

    // both tabs type; the first tab goes: typing is cleared and the other tab still receives
    tab1.emit('typing_start', { groupId })
    await o.next('user_typing')
    const [id1, id2] = [tab1.id, tab2.id]
    let gone = coreEvent(app, 'disconnect', (e) => e.socketId === id1)
    tab1.close()
    await gone
    t.same(await o.next('user_stopped_typing'), { groupId, userId: tabs.user.id })
    await flush(o)
    t.equal(o.count('user_left_group'), 0, 'one tab closed: no user_left_group')
    const info = await o.ack('get_room_info', { groupId })
    t.same([info.onlineCount, info.socketCount], [2, 2])
    const msg = await o.ack('send_message', { groupId, content: 'still there?' })
    t.equal((await tab2.next('message_received', (x) => x.id === msg.id)).content, 'still there?')

    gone = coreEvent(app, 'disconnect', (e) => e.socketId === id2)
    tab2.close()
    t.same(await o.next('user_left_group'), { groupId, userId: tabs.user.id })
    await gone
    await flush(o)
    t.equal(o.count('user_left_group'), 1, 'both closed: exactly one user_left_group')
    t.same((await o.ack('get_room_info', { groupId })).onlineUserIds, [owner.user.id])
  })

  t.test(`${mode}: a connection recovered by Socket.IO is back in its rooms`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const owner = await newUser(app, 'Owner')
    const member = await newUser(app, 'Member')
    const groupId = await createGroup(app, owner, [member])
    const o = await ChatClient.open(t, url, owner.token)
    const m = await ChatClient.open(t, url, member.token)
    await o.ack('join_group', groupId)
    await m.ack('join_group', groupId)
    await m.ack('join_room', 'again')

    const id = m.id
    const gone = coreEvent(app, 'disconnect', (e) => e.socketId === id)
    m.socket.io.engine.close()
    await gone
    t.same(await o.next('user_left_group'), { groupId, userId: member.user.id }, 'the drop is a leave')
    const back = coreEvent(app, 'connection', (e) => e.socketId === id)
    m.socket.connect()
    await connected(m.socket)
    t.equal(m.socket.recovered, true, 'Socket.IO recovered the connection')
    await back
    t.same(await o.next('user_joined_group'), { groupId, userId: member.user.id, userName: 'Member' }, 'and the return a join')
    t.equal((await o.ack('get_room_info', { groupId })).socketCount, 2)
    t.match(await m.ack('send_message', { groupId, content: 'back' }), { content: 'back' }, 'still in the group')
    t.match(await m.ack('send_message', { room: 'again', content: 'back' }), { content: 'back' }, 'and in the code room')
  })

  t.test(`${mode}: a recovered connection gets the broadcasts it missed, and only those meant for it`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const owner = await newUser(app, 'Owner')
    const member = await newUser(app, 'Member')
    const late = await newUser(app, 'Late')
    const groupId = await createGroup(app, owner, [member])
    const o = await ChatClient.open(t, url, owner.token)
    const m = await ChatClient.open(t, url, member.token)
    const tab2 = await ChatClient.open(t, url, member.token)
    for (const client of [o, m, tab2]) await client.ack('join_group', groupId)
    await m.ack('presence:subscribe', { userIds: [late.user.id] })

    const id = m.id
    const gone = coreEvent(app, 'disconnect', (e) => e.socketId === id)
    m.socket.io.engine.close()
    await gone
    const from = m.mark()
    // Missed: the owner typing (the group but the owner's sockets). Not for it: its own user
    // typing in another tab (the group but that user's sockets), nor a watched user coming
    // online: a disconnected socket watches no one until it is back.
    const lateClient = await ChatClient.open(t, url, late.token)
    await o.ack('typing_start', { groupId })
    await tab2.ack('typing_start', { groupId })
    await o.next('user_typing', (d) => d.userId === member.user.id)

    m.socket.connect()
    await connected(m.socket)
    t.equal(m.socket.recovered, true, 'Socket.IO recovered the connection')
    await flush(m)
    const missed = m.received.slice(from)
    t.same(missed.filter((r) => r.event === 'user:status').map((r) => r.data), [])
    t.same(missed.filter((r) => r.event === 'user_typing').map((r) => r.data.userId), [owner.user.id])
    // The recovered socket watches what it watched before.
    lateClient.close()
    t.same(await m.next('user:status', undefined, from), { userId: late.user.id, status: 'offline' }, 'the watchlist came back with the socket')
  })
}
