import t from 'tap'
import { buildTestApp, modes, servicesSkipReason } from '../helper.js'
import { bearer, ChatClient, coreEvent, createGroup, flush, newUser } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

for (const mode of modes()) {
  t.test(`${mode}: seed 001's client integration, step by step`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { TYPING_TTL_MS: '400' }, typingSweepMs: 20 })
    // setupUsers + createGroup: user 1 creates the group and adds users 2 and 3 (role "MEMBER").
    const users = [await newUser(app, 'Room Test User 1'), await newUser(app, 'Room Test User 2'), await newUser(app, 'Room Test User 3')]
    const groupId = await createGroup(app, users[0], users.slice(1))
    // connectSockets: `io(SOCKET_URL, { auth: { token }, transports: ['websocket'] })`
    const [s1, s2, s3] = await Promise.all(users.map(u => ChatClient.open(t, url, u.token)))

    // testRoomJoining
    s1.emit('join_group', groupId)
    const joined1 = await s1.next('joined_group_success')
    t.same(joined1, {
      groupId, memberCount: 3, onlineCount: 1, onlineMembers: [{ userId: users[0].user.id, userName: 'Room Test User 1' }]
    }, 'joined_group_success: member count and who is online')
    t.same(await s1.next('room_members_update', undefined, 0), { groupId, onlineMembers: joined1.onlineMembers })

    s2.emit('join_group', groupId)
    const joined2 = await s2.next('joined_group_success')
    t.equal(joined2.onlineCount, 2)
    t.same(await s1.next('user_joined_group'), { groupId, userId: users[1].user.id, userName: 'Room Test User 2' })
    const update = await s1.next('room_members_update', (d) => d.onlineMembers.length === 2)
    t.same(update.onlineMembers.map((m: any) => m.userName).sort(), ['Room Test User 1', 'Room Test User 2'])

    // `{groupId}` works as well as the bare id
    s3.emit('join_group', { groupId })
    t.equal((await s3.next('joined_group_success')).onlineCount, 3)
    await s2.next('user_joined_group', (d) => d.userId === users[2].user.id)
    t.equal(s3.count('user_joined_group'), 0, 'the joiner is not told about itself')

    // get_room_info: with an ack, the ack; without, a room_info event
    const info = await s1.ack('get_room_info', { groupId })
    t.same({ ...info, onlineUserIds: [...info.onlineUserIds].sort() }, {
      groupId, onlineCount: 3, onlineUserIds: users.map(u => u.user.id).sort(), socketCount: 3
    })
    s1.emit('get_room_info', { groupId })
    t.same((await s1.next('room_info')).socketCount, 3)
    t.equal(s1.all('room_info').length, 1, 'only the ack-less request got a room_info event')

    // testMessaging: every member, sender included, gets message_received
    const texts = [
      'Hello everyone! This is a test message from User 1.',
      'Hi there! User 2 here. Room functionality seems to be working!',
      'User 3 checking in. All good on my end!'
    ]
    for (const [i, content] of texts.entries()) {
      const sender = [s1, s2, s3][i]
      const from = sender.mark()
      sender.emit('send_message', { groupId, content, type: 'TEXT' })
      const got = await sender.next('message_received', (m) => m.content === content, from)
      t.match(got, {
        groupId,
        seq: i + 1,
        sender: { id: users[i].user.id, name: users[i].user.displayName },
        user: { id: users[i].user.id, name: users[i].user.displayName },
        content,
        type: 'TEXT',
        replyToId: null
      })
      t.ok(Date.parse(got.createdAt), 'createdAt is a date')
    }
    for (const s of [s1, s2, s3]) {
      const all = await s.until('message_received', 3)
      t.same(all.map(m => m.content), texts, 'everyone has the three messages, in order')
    }
    // a reply with an ack: the ack carries the stored message
    const first = s1.all('message_received')[0]
    const reply = await s2.ack('send_message', { groupId, content: 'replying', replyToId: first.id })
    t.match(reply, { groupId, seq: 4, replyToId: first.id, content: 'replying', type: 'TEXT' })
    t.equal((await s3.next('message_received', (m) => m.id === reply.id, 0)).replyToId, first.id)

    // testTypingIndicators
    s1.emit('typing_start', { groupId })
    t.same(await s2.next('user_typing'), { groupId, userId: users[0].user.id, userName: 'Room Test User 1' })
    await s3.next('user_typing')
    s1.emit('typing_stop', { groupId })
    t.same(await s2.next('user_stopped_typing'), { groupId, userId: users[0].user.id })
    await s3.next('user_stopped_typing')
    await flush(s1)
    t.equal(s1.count('user_typing') + s1.count('user_stopped_typing'), 0, 'the typist is not told about itself')
    // typing that is never stopped expires (TYPING_TTL_MS) and is reported as stopped
    let from = s1.mark()
    s2.emit('typing_start', { groupId })
    s3.emit('typing_start', { groupId })
    await s1.next('user_typing', (d) => d.userId === users[1].user.id, from)
    await s1.next('user_typing', (d) => d.userId === users[2].user.id, from)
    await s1.next('user_stopped_typing', (d) => d.userId === users[1].user.id, from)
    await s1.next('user_stopped_typing', (d) => d.userId === users[2].user.id, from)
    // sending clears the sender's indicator
    from = s1.mark()
    s2.emit('typing_start', { groupId })
    await s1.next('user_typing', undefined, from)
    s2.emit('send_message', { groupId, content: 'done typing' })
    await s1.next('message_received', (m) => m.content === 'done typing', from)
    await s1.next('user_stopped_typing', (d) => d.userId === users[1].user.id, from)

    // testRoomLeaving: user 3 leaves; the next message does not reach them
    s3.emit('leave_group', groupId)
    t.same(await s3.next('left_group_success'), { groupId })
    t.same(await s1.next('user_left_group'), { groupId, userId: users[2].user.id })
    await s1.next('room_members_update', (d) => d.onlineMembers.length === 2)
    from = s3.mark()
    const notForUser3 = await s1.ack('send_message', { groupId, content: 'This message should not reach User 3', type: 'TEXT' })
    await s2.next('message_received', (m) => m.id === notForUser3.id, 0)
    await flush(s3)
    t.equal(s3.received.slice(from).filter(r => r.event === 'message_received').length, 0, 'user 3 left: no message')
    t.equal((await s3.ack('send_message', { groupId, content: 'from outside' })).error.code, 'NOT_IN_ROOM')
    // rejoin
    s3.emit('join_group', groupId)
    t.equal((await s3.next('joined_group_success', undefined, from)).onlineCount, 3)

    // testDisconnectCleanup: user 2 disconnects
    const gone = coreEvent(app, 'disconnect', (e) => e.user.id === users[1].user.id)
    s2.close()
    t.same(await s1.next('user_left_group', (d) => d.userId === users[1].user.id), { groupId, userId: users[1].user.id })
    await gone
    const after = await s1.ack('get_room_info', { groupId })
    t.equal(after.onlineCount, 2)
    t.equal(after.socketCount, 2)
    t.notOk(after.onlineUserIds.includes(users[1].user.id))

    // errors
    const stranger = await newUser(app, 'Stranger')
    const s4 = await ChatClient.open(t, url, stranger.token)
    s4.emit('join_group', groupId)
    t.same(await s4.next('error'), { code: 'NOT_A_MEMBER', message: 'You are not a member of this group' })
    t.equal((await s4.ack('join_group', '6a0d3a3c-3b8e-4c55-9a53-8e1ef0f6d2c1')).error.code, 'ROOM_NOT_FOUND')
    t.equal((await s4.ack('join_group', 'not-a-uuid')).error.code, 'ROOM_NOT_FOUND')
    t.equal((await s4.ack('join_group', 42)).error.code, 'INVALID_REQUEST')
    t.equal((await s4.ack('get_room_info', { groupId })).error.code, 'NOT_A_MEMBER')
  })

  t.test(`${mode}: groups REST: create, list, members, history pages, presence`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const [owner, ann, bob, eve] = [await newUser(app, 'Owner'), await newUser(app, 'Ann'), await newUser(app, 'Bob'), await newUser(app, 'Eve')]
    const anonymous = await app.inject({ method: 'GET', url: '/api/groups' })
    t.equal(anonymous.statusCode, 401)
    t.equal(anonymous.json().code, 'UNAUTHORIZED')

    const created = await app.inject({ method: 'POST', url: '/api/groups', headers: bearer(owner.token), payload: { name: '  Book club  ', description: 'Books' } })
    t.equal(created.statusCode, 201)
    const group = created.json().group
    t.match(group, { name: 'Book club', description: 'Books', isPrivate: false, createdBy: owner.user.id, memberCount: 1, role: 'owner', lastSeq: 0 })
    const invalid = await app.inject({ method: 'POST', url: '/api/groups', headers: bearer(owner.token), payload: { name: '' } })
    t.equal(invalid.json().code, 'INVALID_REQUEST')

    const add = (who: typeof owner, payload: object) => app.inject({ method: 'POST', url: `/api/groups/${group.id}/members`, headers: bearer(who.token), payload })
    const added = await add(owner, { userId: ann.user.id, role: 'admin' })
    t.equal(added.statusCode, 201)
    t.match(added.json().member, { userId: ann.user.id, userName: 'Ann', role: 'admin' })
    t.equal((await add(owner, { userId: ann.user.id })).statusCode, 200, 'adding twice is not an error')
    t.equal((await add(ann, { userId: bob.user.id })).statusCode, 201, 'an admin adds members')
    t.equal((await add(bob, { userId: eve.user.id })).json().code, 'FORBIDDEN', 'a member does not')
    t.equal((await add(ann, { userId: eve.user.id, role: 'ADMIN' })).json().code, 'FORBIDDEN', 'only the owner adds admins')
    t.equal((await add(eve, { userId: eve.user.id })).json().code, 'NOT_A_MEMBER')
    t.equal((await add(owner, { userId: 'ext-1' })).json().code, 'USER_NOT_FOUND')
    t.equal((await add(owner, { userId: 'ext-1', userName: 'External One' })).statusCode, 201, 'an embedding app user, named')

    const list = await app.inject({ method: 'GET', url: '/api/groups', headers: bearer(bob.token) })
    t.same(list.json().groups.map((g: any) => [g.id, g.role, g.memberCount]), [[group.id, 'member', 4]])
    t.same((await app.inject({ method: 'GET', url: '/api/groups', headers: bearer(eve.token) })).json().groups, [])
    const detail = await app.inject({ method: 'GET', url: `/api/groups/${group.id}`, headers: bearer(bob.token) })
    t.same(detail.json().members.map((m: any) => m.userName), ['Owner', 'Ann', 'Bob', 'External One'])
    t.equal((await app.inject({ method: 'GET', url: `/api/groups/${group.id}`, headers: bearer(eve.token) })).statusCode, 403)
    t.equal((await app.inject({ method: 'GET', url: '/api/groups/nope', headers: bearer(eve.token) })).statusCode, 404)

    // 12 messages, then pages of 5 by the seq cursor, newest first
    const annSocket = await ChatClient.open(t, url, ann.token)
    await annSocket.ack('join_group', group.id)
    for (let i = 1; i <= 12; i++) await annSocket.ack('send_message', { groupId: group.id, content: `m${i}` })
    const page = (query: string, who = bob) => app.inject({ method: 'GET', url: `/api/groups/${group.id}/messages${query}`, headers: bearer(who.token) })
    const p1 = (await page('?limit=5')).json()
    t.same(p1.messages.map((m: any) => m.seq), [12, 11, 10, 9, 8])
    t.equal(p1.nextCursor, 8)
    const p2 = (await page(`?limit=5&before=${p1.nextCursor}`)).json()
    t.same(p2.messages.map((m: any) => m.content), ['m7', 'm6', 'm5', 'm4', 'm3'])
    const p3 = (await page(`?limit=5&before=${p2.nextCursor}`)).json()
    t.same(p3.messages.map((m: any) => m.seq), [2, 1])
    t.equal(p3.nextCursor, null)
    t.match(p3.messages[1], { content: 'm1', sender: { id: ann.user.id, name: 'Ann' }, groupId: group.id, type: 'TEXT' })
    t.equal((await page('', eve)).json().code, 'NOT_A_MEMBER', 'history is for members')
    t.equal((await page('?limit=0')).json().code, 'INVALID_REQUEST')

    const presence = (await app.inject({ method: 'GET', url: `/api/groups/${group.id}/presence`, headers: bearer(owner.token) })).json()
    t.same(presence, { groupId: group.id, onlineCount: 1, onlineUserIds: [ann.user.id], socketCount: 1, onlineMembers: [{ userId: ann.user.id, userName: 'Ann' }] })

    // removing a member takes their sockets out of the group at once
    const bobSocket = await ChatClient.open(t, url, bob.token)
    await bobSocket.ack('join_group', group.id)
    const removed = await app.inject({ method: 'DELETE', url: `/api/groups/${group.id}/members/${bob.user.id}`, headers: bearer(ann.token) })
    t.equal(removed.statusCode, 204)
    t.same(await bobSocket.next('left_group_success'), { groupId: group.id })
    t.same(await annSocket.next('user_left_group', (d) => d.userId === bob.user.id), { groupId: group.id, userId: bob.user.id })
    t.equal((await bobSocket.ack('send_message', { groupId: group.id, content: 'still here?' })).error.code, 'NOT_A_MEMBER')
    const ownerOut = await app.inject({ method: 'DELETE', url: `/api/groups/${group.id}/members/${owner.user.id}`, headers: bearer(ann.token) })
    t.equal(ownerOut.json().code, 'FORBIDDEN', 'the owner cannot be removed')
    const self = await app.inject({ method: 'DELETE', url: `/api/groups/${group.id}/members/${ann.user.id}`, headers: bearer(ann.token) })
    t.equal(self.statusCode, 204, 'a member may leave')

    // the owner deletes the group: sockets in it are told
    await annSocket.ack('leave_group', group.id)
    const ownerSocket = await ChatClient.open(t, url, owner.token)
    await ownerSocket.ack('join_group', group.id)
    const deleted = await app.inject({ method: 'DELETE', url: `/api/groups/${group.id}`, headers: bearer(owner.token) })
    t.equal(deleted.statusCode, 204)
    await ownerSocket.next('left_group_success', (d) => d.groupId === group.id)
    t.equal((await ownerSocket.ack('send_message', { groupId: group.id, content: 'gone' })).error.code, 'ROOM_NOT_FOUND')
    t.equal((await app.inject({ method: 'GET', url: `/api/groups/${group.id}/messages`, headers: bearer(owner.token) })).statusCode, 404)
  })
}
