import t from 'tap'
import { modes, servicesSkipReason } from '../helper.js'
import { ChatClient, createChannel, createGroup, newUser } from '../chat/fixtures.js'
import { createRoom as createPublicRoom, createUser as createPublicUser, SeedClient } from '../public-rooms/fixtures.js'
import { createRoom as createSyncRoom, join as syncJoin, request, syncClient } from '../sync/fixtures.js'
import { registerUser } from '../helper.js'
import { startReceiver, verify, webhookApp, type Receiver } from './fixtures.js'
import type { WebhookEvent } from '../../src/webhooks/events.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

/** The events of one room (or, for user.*, of one user), as "type userId members". */
const ofRoom = (receiver: Receiver, roomId: string) => receiver.events().filter(e => e.room?.id === roomId)
const ofUser = (receiver: Receiver, userId: string) => receiver.events().filter(e => e.room === undefined && e.userId === userId)
const brief = (events: WebhookEvent[]) => events.map(e => [e.type, e.userId, e.data?.members].filter(x => x !== undefined).join(' '))

async function untilCount (receiver: Receiver, pick: () => WebhookEvent[], n: number, what: string) {
  await receiver.until(() => pick().length >= n, what)
  return pick()
}

for (const mode of modes()) {
  t.test(`${mode}: a channel's lifecycle and messages reach the receiver, signed, once each`, async (t) => {
    const receiver = await startReceiver(t)
    const { app, url } = await webhookApp(t, mode, [receiver.url], { listen: true })
    const alice = await newUser(app, 'Alice')
    const bob = await newUser(app, 'Bob')
    const roomId = await createChannel(app, `hooks-${mode}`)
    const a1 = await ChatClient.open(t, url, alice.token)
    const a2 = await ChatClient.open(t, url, alice.token)
    const b = await ChatClient.open(t, url, bob.token)
    await a1.ack('room:join', { roomId })
    await a2.ack('room:join', { roomId })
    await b.ack('room:join', { roomId })
    const sent = await a1.ack('message', { roomId, content: 'Hello hooks', type: 'text' })
    await b.ack('room:leave', { roomId })
    a1.close()
    a2.close()
    const events = await untilCount(receiver, () => ofRoom(receiver, roomId), 6, 'the channel events')

    t.same(brief(events), [
      `room.occupied ${alice.user.id} 1`, `member.added ${alice.user.id} 1`, `member.added ${bob.user.id} 2`,
      `message.created ${alice.user.id}`, `member.removed ${bob.user.id} 1`, `member.removed ${alice.user.id} 0`,
      `room.vacated ${alice.user.id} 0`
    ].slice(0, events.length), 'first and last socket per user, in order')
    const all = await untilCount(receiver, () => ofRoom(receiver, roomId), 7, 'room.vacated')
    t.equal(all.length, 7)
    t.match(all[3], {
      type: 'message.created',
      room: { kind: 'channel', id: roomId },
      userId: alice.user.id,
      data: { messageId: sent.id, seq: 1, content: 'Hello hooks', type: 'text', createdAt: String }
    })
    const online = await untilCount(receiver, () => ofUser(receiver, alice.user.id), 2, "alice's online and offline")
    t.same(brief(online), [`user.online ${alice.user.id}`, `user.offline ${alice.user.id}`], 'online on the first socket, offline after the last')
    t.same(brief(ofUser(receiver, bob.user.id)), [`user.online ${bob.user.id}`], 'bob is still connected')
    for (const received of receiver.accepted) t.same(verify(received), received.payload, 'signed')
  })

  t.test(`${mode}: groups, code rooms, public rooms and sync rooms are occupied and vacated`, async (t) => {
    const receiver = await startReceiver(t)
    const { app, url } = await webhookApp(t, mode, [receiver.url], { listen: true })
    const owner = await newUser(app, 'Owner')
    const groupId = await createGroup(app, owner)
    const code = `HOOK${mode.toUpperCase()}${Date.now()}`
    const client = await ChatClient.open(t, url, owner.token)
    await client.ack('join_group', { groupId })
    t.equal((await client.ack('send_message', { groupId, content: 'in the group', type: 'TEXT' }))?.error, undefined)
    t.equal((await client.ack('join_room', code)).ok, true)
    client.close()
    const group = await untilCount(receiver, () => ofRoom(receiver, groupId), 5, 'the group events')
    t.same(brief(group).map(s => s.split(' ')[0]), ['room.occupied', 'member.added', 'message.created', 'member.removed', 'room.vacated'])
    t.equal(group[2].data?.content, 'in the group')
    const codeRoom = await untilCount(receiver, () => ofRoom(receiver, code), 4, 'the code room events')
    t.same(codeRoom.map(e => `${e.type} ${e.room?.kind}`), ['room.occupied code', 'member.added code', 'member.removed code', 'room.vacated code'])

    const publicRoom = await createPublicRoom(app)
    const visitor = await createPublicUser(app, 'Visitor')
    const seed = new SeedClient(t, url, publicRoom.id)
    t.equal((await seed.join(visitor)).ok, true)
    seed.socket.disconnect()
    const pub = await untilCount(receiver, () => ofRoom(receiver, publicRoom.id), 4, 'the public room events')
    t.same(brief(pub), [`room.occupied ${visitor.userId} 1`, `member.added ${visitor.userId} 1`, `member.removed ${visitor.userId} 0`, `room.vacated ${visitor.userId} 0`])
    t.equal(pub[0].room?.kind, 'public')

    const host = await registerUser(app)
    const sync = await createSyncRoom(app, host.token)
    const socket = await syncClient(t, url, { token: host.token })
    const { participantId } = await syncJoin(socket, { roomCode: sync.code })
    await request(socket, 'playback:update', { action: 'play', position: 12 })
    await request(socket, 'room:leave')
    const watch = await untilCount(receiver, () => ofRoom(receiver, sync.id), 5, 'the sync room events')
    t.same(brief(watch), [`room.occupied ${host.user.id} 1`, `member.added ${host.user.id} 1`, 'sync.playback', `member.removed ${host.user.id} 0`, `room.vacated ${host.user.id} 0`])
    t.match(watch[1], { room: { kind: 'sync', id: sync.id }, data: { participantId, isGuest: false } })
    t.match(watch[2].data, { status: 'playing', position: 12, updatedBy: participantId })
  })

  t.test(`${mode}: endpoint filters: events nobody takes are not written`, async (t) => {
    const receiver = await startReceiver(t)
    const { app, url } = await webhookApp(t, mode, [receiver.url], { listen: true, env: { WEBHOOK_EVENTS: 'message.created' } })
    const alice = await newUser(app, 'Alice')
    const roomId = await createChannel(app, `filtered-${mode}`)
    const client = await ChatClient.open(t, url, alice.token)
    await client.ack('room:join', { roomId })
    await client.ack('message', { roomId, content: 'only this', type: 'text' })
    const events = await untilCount(receiver, () => receiver.events(), 1, 'the message')
    t.same(events.map(e => e.type), ['message.created'])
    t.notOk(app.webhooks.wants('room.occupied'))
  })

  // Embedded instances each have a store of their own: only Redis makes them one presence.
  t.test(`${mode}: two instances on one store and database: a room is occupied once, vacated once`, { skip: mode === 'embedded' && 'needs a shared store (Redis)' }, async (t) => {
    const receiver = await startReceiver(t)
    const group = `occupied-${mode}`
    const a = await webhookApp(t, mode, [receiver.url], { listen: true, group })
    const b = await webhookApp(t, mode, [receiver.url], { listen: true, group })
    const users = await Promise.all(['A', 'B', 'C', 'D'].map(name => newUser(a.app, name)))
    const roomId = await createChannel(a.app, `shared-${mode}`)
    const clients = await Promise.all(users.map((u, n) => ChatClient.open(t, n % 2 === 0 ? a.url : b.url, u.token)))
    await Promise.all(clients.map(c => c.ack('room:join', { roomId })))
    await Promise.all(clients.map(c => c.ack('room:leave', { roomId })))
    const events = await untilCount(receiver, () => ofRoom(receiver, roomId), 10, 'every join and leave')
    const count = (type: string) => events.filter(e => e.type === type).length
    t.equal(count('room.occupied'), 1, 'occupied once across instances')
    t.equal(count('room.vacated'), 1, 'vacated once')
    t.equal(count('member.added'), 4)
    t.equal(count('member.removed'), 4)
    t.equal(new Set(events.map(e => e.id)).size, events.length, 'no event twice')
  })
}
