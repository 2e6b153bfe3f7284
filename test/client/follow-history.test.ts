import t from 'tap'
import { followHistory } from '../../src/client.js'
import { buildTestApp, connected, modes } from '../helper.js'
import { ChatClient, createChannel, createGroup, newUser } from '../chat/fixtures.js'

// The typed client's `followHistory` (CONTRACT §12): a reconnect Socket.IO cannot recover
// rejoins each followed room with sinceSeq, so nothing sent meanwhile is lost.

const env = { CHAT_MESSAGES_PER_MINUTE: '10000' }

for (const mode of modes()) {
  t.test(`${mode}: a socket reconnected without recovery gets what it missed in its group and its channel`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env })
    const [owner, member] = [await newUser(app, 'Owner'), await newUser(app, 'Member')]
    const groupId = await createGroup(app, owner, [member])
    const roomId = await createChannel(app)
    const sender = await ChatClient.open(t, url, owner.token)
    await sender.ack('join_group', groupId)
    await sender.ack('room:join', { roomId })

    const reader = new ChatClient(t, url, member.token)
    const follow = followHistory(reader.socket)
    await connected(reader.socket)
    await new Promise((resolve) => { follow.joinGroup(groupId, undefined, resolve) })
    await new Promise((resolve) => { follow.joinChannel(roomId, undefined, resolve) })
    for (let i = 1; i <= 2; i++) await sender.ack('send_message', { groupId, content: `seen ${i}` })
    await sender.ack('message', { roomId, content: 'seen in channel', type: 'text' })
    await reader.until('message_received', 2)
    await reader.until('message', 1)
    t.equal(follow.lastSeq({ groupId }), 2, 'the highest seq seen in the group')
    t.equal(follow.lastSeq({ roomId }), 1, 'and in the channel')

    // A client-side disconnect keeps no session: the next connect is not recovered.
    reader.socket.disconnect()
    for (let i = 1; i <= 3; i++) await sender.ack('send_message', { groupId, content: `missed ${i}` })
    await sender.ack('message', { roomId, content: 'missed in channel', type: 'text' })
    reader.socket.connect()
    await connected(reader.socket)
    t.equal(reader.socket.recovered, false, 'the session was not recovered')

    const group = await reader.next('history:replayed', (d) => d.groupId === groupId)
    const channel = await reader.next('history:replayed', (d) => d.roomId === roomId)
    t.same(group, { groupId, fromSeq: 3, toSeq: 5, complete: true }, 'the group replays seqs 3..5')
    t.same(channel, { roomId, fromSeq: 2, toSeq: 2, complete: true }, 'the channel replays seq 2')
    t.same(reader.all('message_received').map((m) => m.content), ['seen 1', 'seen 2', 'missed 1', 'missed 2', 'missed 3'],
      'each group message once, in order')
    t.same(reader.all('message').map((m) => m.content), ['seen in channel', 'missed in channel'])
    t.equal(follow.lastSeq({ groupId }), 5, 'replayed messages move the seq on')

    // Live messages keep arriving in the rejoined rooms.
    await sender.ack('send_message', { groupId, content: 'live' })
    await reader.until('message_received', 6)
    t.equal(follow.lastSeq({ groupId }), 6)

    // A room forgotten is not rejoined.
    follow.forget({ roomId })
    reader.socket.disconnect()
    reader.socket.connect()
    await connected(reader.socket)
    await reader.next('history:replayed', (d) => d.groupId === groupId)
    // Events of one socket are handled in order: a channel rejoin sent on connect would have been
    // answered, replay included, before this later event's ack.
    await reader.ack('get_room_info', { groupId })
    t.equal(reader.all('history:replayed').filter((d) => d.roomId === roomId).length, 1, 'no second replay for the forgotten channel')
  })
}
