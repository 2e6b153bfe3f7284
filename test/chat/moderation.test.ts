import t from 'tap'
import { ADMIN_API_KEY, buildTestApp, modes, servicesSkipReason } from '../helper.js'
import { bearer, ChatClient, createChannel, createGroup, crossReady, flush, newUser } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

const admin = { 'x-api-key': ADMIN_API_KEY }
const sleepUntil = (at: number) => new Promise(resolve => setTimeout(resolve, Math.max(0, at - Date.now()) + 50))

for (const mode of modes()) {
  t.test(`${mode}: group moderation${mode === 'services' ? ' across two instances' : ''}: kick, ban until, mute, audited`, async (t) => {
    const first = await buildTestApp(t, { mode })
    const second = mode === 'services' ? await buildTestApp(t, { mode, shared: { prefix: first.prefix } }) : first
    const [alice, bob, carol, dave] = [await newUser(first.app, 'Alice'), await newUser(first.app, 'Bob'), await newUser(first.app, 'Carol'), await newUser(first.app, 'Dave')]
    const groupId = await createGroup(first.app, alice, [bob, carol])
    const owner = await ChatClient.open(t, first.url, alice.token)
    const observer = await ChatClient.open(t, second.url, carol.token)
    const bob1 = await ChatClient.open(t, first.url, bob.token)
    const bob2 = await ChatClient.open(t, second.url, bob.token)
    if (mode === 'services') {
      await crossReady(first.app, bob2)
      await crossReady(second.app, owner)
    }
    for (const c of [owner, observer, bob1, bob2]) await c.ack('join_group', groupId)

    // Who may act: not a member, not on oneself, not on the owner, not on a non-member.
    t.match(await bob1.ack('kick', { groupId, userId: carol.user.id }), { ok: false, error: { code: 'FORBIDDEN' } })
    t.match(await bob1.ack('kick', { groupId, userId: alice.user.id }), { ok: false, error: { code: 'FORBIDDEN' } })
    t.match(await owner.ack('kick', { groupId, userId: alice.user.id }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.match(await owner.ack('kick', { groupId, userId: dave.user.id }), { ok: false, error: { code: 'NOT_A_MEMBER' } })
    t.match(await owner.ack('ban', { groupId, userId: bob.user.id, until: new Date(Date.now() - 1000).toISOString() }), { ok: false, error: { code: 'INVALID_REQUEST' } }, 'until in the past')
    t.match(await owner.ack('ban', { groupId, userId: bob.user.id, until: 'tomorrow' }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.match(await owner.ack('kick', { groupId: '00000000-0000-4000-8000-000000000000', userId: bob.user.id }), { ok: false, error: { code: 'ROOM_NOT_FOUND' } })
    const audit = async () => (await first.app.inject({ method: 'GET', url: `/api/moderation/actions?kind=group&roomId=${groupId}`, headers: admin })).json().actions
    t.same(await audit(), [], 'refused actions leave nothing')
    t.equal((await owner.ack('get_room_info', { groupId })).socketCount, 4, 'bad input changed nothing')

    // Kick: both of bob's sockets, on both instances, leave now and are told.
    t.same(await owner.ack('kick', { groupId, userId: bob.user.id, reason: 'calm down' }), { ok: true, groupId, action: 'kick', userId: bob.user.id, until: null })
    for (const tab of [bob1, bob2]) {
      t.same(await tab.next('moderated'), { groupId, action: 'kick', until: null, reason: 'calm down' })
      await tab.next('left_group_success', (d) => d.groupId === groupId)
    }
    t.same(await observer.next('user_left_group'), { groupId, userId: bob.user.id })
    const info = await owner.ack('get_room_info', { groupId })
    t.same({ count: info.onlineCount, sockets: info.socketCount }, { count: 2, sockets: 2 }, 'gone from presence everywhere')
    const afterKick = await owner.ack('send_message', { groupId, content: 'after the kick' })
    await observer.next('message_received', (m) => m.id === afterKick.id)
    await flush(bob1)
    await flush(bob2)
    t.notOk([...bob1.all('message_received'), ...bob2.all('message_received')].some(m => m.id === afterKick.id), 'the kicked sockets no longer hear the room')
    t.match(await bob2.ack('send_message', { groupId, content: 'hello?' }), { ok: false, error: { code: 'NOT_IN_ROOM' } })
    await bob1.ack('join_group', groupId)
    t.pass('a kick does not ban: the user may join again')

    // Ban until a moment from now: kicked, joins refused until then.
    const until = new Date(Date.now() + 1500)
    t.same(await owner.ack('ban', { groupId, userId: bob.user.id, until: until.toISOString() }), { ok: true, groupId, action: 'ban', userId: bob.user.id, until: until.toISOString() })
    t.match(await bob1.next('moderated', (d) => d.action === 'ban'), { groupId, until: until.toISOString() })
    for (const tab of [bob1, bob2]) {
      const refused = await tab.ack('join_group', groupId)
      t.match(refused, { ok: false, error: { code: 'BANNED' } }, 'a banned user cannot rejoin, on either instance')
    }
    t.equal((await owner.ack('get_room_info', { groupId })).onlineUserIds.includes(bob.user.id), false)
    await sleepUntil(until.getTime())
    t.match(await bob2.ack('join_group', groupId), { groupId, memberCount: 3 }, 'after `until` the join is accepted')

    // Mute: sends refused with MUTED, no one receives them, no seq used.
    t.same(await owner.ack('mute', { groupId, userId: bob.user.id }), { ok: true, groupId, action: 'mute', userId: bob.user.id, until: null })
    t.match(await bob2.next('moderated', (d) => d.action === 'mute'), { groupId, until: null })
    const before = observer.mark()
    t.match(await bob2.ack('send_message', { groupId, content: 'muted words' }), { ok: false, error: { code: 'MUTED' } })
    t.match(await bob2.ack('send_message', { groupId, content: 'muted again', clientMessageId: 'c1' }), { ok: false, error: { code: 'MUTED' } })
    const next = await owner.ack('send_message', { groupId, content: 'still here' })
    t.equal(next.seq, afterKick.seq + 1, 'the refused sends used no seq')
    await observer.next('message_received', (m) => m.id === next.id, before)
    t.notOk(observer.received.slice(before).some(r => r.event === 'message_received' && r.data.content.startsWith('muted')), 'no one received them')
    const history = (await second.app.inject({ method: 'GET', url: `/api/groups/${groupId}/messages`, headers: bearer(carol.token) })).json().messages
    t.notOk(history.some((m: any) => m.content.startsWith('muted')), 'nothing stored')
    t.same(await owner.ack('unmute', { groupId, userId: bob.user.id }), { ok: true, groupId, action: 'unmute', userId: bob.user.id, until: null })
    t.match(await bob2.ack('send_message', { groupId, content: 'free again' }), { content: 'free again', seq: next.seq + 1 })

    // Everything audited, oldest first, paginated.
    const all = await audit()
    t.same(all.map((a: any) => a.action), ['kick', 'ban', 'mute', 'unmute'])
    t.match(all[1], { roomKind: 'group', roomId: groupId, targetUserId: bob.user.id, actorId: alice.user.id, actorKind: 'member', until: until.toISOString(), reason: null })
    t.equal(all[0].reason, 'calm down')
    const page = (await first.app.inject({ method: 'GET', url: `/api/moderation/actions?kind=group&roomId=${groupId}&limit=3`, headers: admin })).json()
    t.equal(page.actions.length, 3)
    const rest = (await first.app.inject({ method: 'GET', url: `/api/moderation/actions?kind=group&roomId=${groupId}&limit=3&cursor=${page.nextCursor}`, headers: admin })).json()
    t.same(rest.actions.map((a: any) => a.action), ['unmute'])
    t.equal(rest.nextCursor, null)
    t.equal((await first.app.inject({ method: 'GET', url: '/api/moderation/actions', headers: bearer(alice.token) })).statusCode, 403, 'admins only')
  })
}

t.test('embedded: admin REST moderates a channel: ban (until lifted), unban, mute', async (t) => {
  const { app, url } = await buildTestApp(t)
  const [alice, bob] = [await newUser(app, 'Alice', 'alice'), await newUser(app, 'Bob', 'bob')]
  const roomId = await createChannel(app)
  const [a, b] = await Promise.all([alice, bob].map(u => ChatClient.open(t, url, u.token)))
  for (const x of [a, b]) await x.ack('room:join', { roomId })
  const post = (action: string, payload: object, headers: Record<string, string> = admin, room = roomId) =>
    app.inject({ method: 'POST', url: `/api/moderation/channel/${room}/${action}`, headers, payload })

  t.equal((await post('ban', { userId: bob.user.id }, {})).statusCode, 401, 'admin credentials required')
  t.equal((await post('ban', { userId: bob.user.id }, bearer(alice.token))).statusCode, 403)
  t.equal((await post('ban', { userId: bob.user.id })).statusCode, 200)
  t.match(await b.next('moderated'), { roomId, action: 'ban', until: null })
  await b.next('user:left', (d) => d.roomId === roomId)
  t.match(await b.ack('room:join', { roomId }), { ok: false, error: { code: 'BANNED' } })
  t.equal((await post('ban', { userId: bob.user.id }, admin, '00000000-0000-4000-8000-000000000000')).statusCode, 404)
  t.equal((await post('kick', { userId: bob.user.id, until: new Date(Date.now() + 60_000).toISOString() })).statusCode, 400, 'until only for ban and mute')
  t.equal((await post('ban', { userId: '' })).statusCode, 400)
  t.equal((await post('ban', { userId: bob.user.id, until: 'soon' })).statusCode, 400)
  const lifted = await post('unban', { userId: bob.user.id })
  t.equal(lifted.statusCode, 200)
  t.match(lifted.json().action, { action: 'unban', roomKind: 'channel', roomId, actorKind: 'admin', actorId: null })
  t.match(await b.ack('room:join', { roomId }), { ok: true, roomId })

  t.equal((await post('mute', { userId: bob.user.id, until: new Date(Date.now() + 60_000).toISOString() })).statusCode, 200)
  t.match(await b.ack('message', { roomId, content: 'hi' }), { ok: false, error: { code: 'MUTED' } })
  await flush(a)
  t.equal(a.count('message'), 0, 'no one received it')
  const actions = (await app.inject({ method: 'GET', url: '/api/moderation/actions?kind=channel', headers: admin })).json().actions
  t.same(actions.map((x: any) => x.action), ['ban', 'unban', 'mute'], 'refused requests left nothing')
})
