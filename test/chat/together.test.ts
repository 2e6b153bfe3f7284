import t from 'tap'
import { buildTestApp, modes, servicesSkipReason } from '../helper.js'
import { ChatClient, createChannel, createGroup, flush, newUser } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

/** What each seed's client listens to (plus `error`, and `user:status` that `/` pushes to everyone). */
const VOCABULARY = {
  '001': ['joined_group_success', 'user_joined_group', 'room_members_update', 'left_group_success', 'user_left_group', 'message_received', 'user_typing', 'user_stopped_typing', 'room_info'],
  '003': ['joined_room', 'users_online', 'left_room', 'new_message', 'user_typing', 'user_stop_typing'],
  '004': ['user:joined', 'user:left', 'message', 'typing', 'notification', 'system:announcement']
}
const COMMON = ['error', 'user:status', 'disconnect']

for (const mode of modes()) {
  t.test(`${mode}: clients of seeds 001, 003 and 004 on one server at the same time`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const [ann, ben, cat, dov, eli] = [
      await newUser(app, 'Ann', `ann${mode}`), await newUser(app, 'Ben', `ben${mode}`), await newUser(app, 'Cat', `cat${mode}`),
      await newUser(app, 'Dov', `dov${mode}`), await newUser(app, 'Eli', `eli${mode}`)
    ]
    const groupId = await createGroup(app, ann, [ben])
    const roomId = await createChannel(app, 'general')
    // Ann uses two apps at once: the group chat (001) and the code-room chat (003).
    const clients = {
      '001': [await ChatClient.open(t, url, ann.token), await ChatClient.open(t, url, ben.token)],
      '003': [await ChatClient.open(t, url, ann.token), await ChatClient.open(t, url, cat.token)],
      '004': [await ChatClient.open(t, url, dov.token, { query: { token: dov.token } }), await ChatClient.open(t, url, eli.token, { query: { token: eli.token } })]
    }
    const [g1, g2] = clients['001']
    const [c1, c2] = clients['003']
    const [h1, h2] = clients['004']

    // everyone joins at once
    g1.emit('join_group', groupId)
    g2.emit('join_group', groupId)
    c1.emit('join_room', 'mix')
    c2.emit('join_room', 'mix')
    h1.emit('room:join', { roomId })
    await Promise.all([g1.next('joined_group_success'), g2.next('joined_group_success'), c1.next('joined_room'), c2.next('joined_room')])
    // seed 004 announces a join to those already in the room: Eli comes once Dov is in
    await h1.next('user:joined', (d) => d.userId === dov.user.id)
    h2.emit('room:join', { roomId })
    await Promise.all([c1.next('users_online', (l) => l.length === 2), h1.next('user:joined', (d) => d.userId === eli.user.id)])

    // the same event names, told apart by payload: send_message {groupId} vs {room}, typing_* likewise
    g1.emit('typing_start', { groupId })
    c1.emit('typing_start', { room: 'mix' })
    h1.emit('typing', { roomId, isTyping: true })
    t.same(await g2.next('user_typing'), { groupId, userId: ann.user.id, userName: 'Ann' })
    t.same(await c2.next('user_typing'), { username: `ann${mode}`, userId: ann.user.id })
    t.same(await h2.next('typing'), { roomId, userId: dov.user.id, username: `dov${mode}`, isTyping: true })

    g1.emit('send_message', { groupId, content: 'to the group', type: 'TEXT' })
    c1.emit('send_message', { content: 'to the code room', room: 'MIX', messageType: 'text' })
    h1.emit('message', { roomId, content: 'to the channel', type: 'text' })
    t.match(await g2.next('message_received'), { groupId, seq: 1, content: 'to the group', sender: { id: ann.user.id, name: 'Ann' } })
    t.match(await c2.next('new_message'), { content: 'to the code room', room: 'MIX', sender: { _id: ann.user.id, username: `ann${mode}` } })
    t.match(await h2.next('message'), { roomId, seq: 1, content: 'to the channel', username: `dov${mode}` })
    // sending cleared the typists' indicators, each in its own vocabulary
    t.same(await g2.next('user_stopped_typing'), { groupId, userId: ann.user.id })
    t.same(await c2.next('user_stop_typing'), { username: `ann${mode}`, userId: ann.user.id })
    h1.emit('typing', { roomId, isTyping: false })
    t.equal((await h2.next('typing')).isTyping, false)

    g2.emit('leave_group', groupId)
    c2.emit('leave_room', 'mix')
    h2.emit('room:leave', { roomId })
    t.same(await g1.next('user_left_group'), { groupId, userId: ben.user.id })
    t.same(await c1.next('users_online', (l) => l.length === 1), [{ userId: ann.user.id, username: `ann${mode}` }])
    t.same(await h1.next('user:left'), { roomId, userId: eli.user.id, username: `eli${mode}` })

    for (const [seed, list] of Object.entries(clients) as Array<[keyof typeof VOCABULARY, ChatClient[]]>) {
      for (const client of list) {
        await flush(client)
        const names = new Set(client.received.map(r => r.event))
        const foreign = [...names].filter(n => !VOCABULARY[seed].includes(n) && !COMMON.includes(n))
        t.same(foreign, [], `a seed ${seed} client receives only its vocabulary`)
        t.equal(client.count('error'), 0, `no errors for the seed ${seed} client`)
      }
    }
    // Ann's two clients: the group client never saw code-room events and the other way round
    t.equal(g1.count('new_message') + g1.count('users_online'), 0)
    t.equal(c1.count('message_received') + c1.count('user_joined_group'), 0)
  })
}
