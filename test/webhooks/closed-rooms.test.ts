import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { ADMIN_API_KEY, modes, registerUser, servicesSkipReason } from '../helper.js'
import { bearer, ChatClient, createChannel, createGroup, newUser } from '../chat/fixtures.js'
import { createRoom as createSyncRoom, join as syncJoin, syncClient, until } from '../sync/fixtures.js'
import { startReceiver, webhookApp, type Receiver } from './fixtures.js'
import type { WebhookEvent } from '../../src/webhooks/events.js'

/**
 * room.vacated when a room goes away with members in it (docs/webhooks.md): written in the
 * deletion's SQL transaction, once, and never a second time when its sockets leave afterwards.
 */
const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

const ofRoom = (receiver: Receiver, roomId: string) => receiver.events().filter(e => e.room?.id === roomId)
const brief = (events: WebhookEvent[]) => events.map(e => [e.type, e.userId, e.data?.members, e.data?.reason].filter(x => x !== undefined).join(' '))
/** Long enough for a second, wrong copy to have been sent too (several sender rounds of 40 ms). */
const settle = () => sleep(400)

async function eventsOf (receiver: Receiver, roomId: string, n: number, what: string): Promise<WebhookEvent[]> {
  await receiver.until(() => ofRoom(receiver, roomId).length >= n, what)
  await settle()
  return ofRoom(receiver, roomId)
}

for (const mode of modes()) {
  t.test(`${mode}: a channel deleted over REST with members in it: member.removed each, one room.vacated`, async (t) => {
    const receiver = await startReceiver(t)
    const { app, url } = await webhookApp(t, mode, [receiver.url], { listen: true })
    const [alice, bob] = [await newUser(app, 'Alice'), await newUser(app, 'Bob')]
    const roomId = await createChannel(app, `closing-${mode}`)
    const clients = [await ChatClient.open(t, url, alice.token), await ChatClient.open(t, url, alice.token), await ChatClient.open(t, url, bob.token)]
    for (const client of clients) await client.ack('room:join', { roomId })
    await receiver.until(() => ofRoom(receiver, roomId).length >= 3, 'the joins')

    const bad = await app.inject({ method: 'DELETE', url: '/api/rooms/not-a-room', headers: { 'x-api-key': ADMIN_API_KEY } })
    t.equal(bad.statusCode, 404, 'no such room: 404, nothing written')
    const res = await app.inject({ method: 'DELETE', url: `/api/rooms/${roomId}`, headers: { 'x-api-key': ADMIN_API_KEY } })
    t.equal(res.statusCode, 204)
    for (const client of clients) client.close()
    const events = await eventsOf(receiver, roomId, 6, 'the departures')
    const [first, second] = [alice.user.id, bob.user.id].sort()
    t.same(brief(events).slice(3), [`member.removed ${first} 1`, `member.removed ${second} 0`, `room.vacated ${second} 0 deleted`],
      'each member removed, then vacated (reason: deleted)')
    t.equal(events.length, 6, 'the sockets leaving afterwards report nothing more')
    const again = await app.inject({ method: 'DELETE', url: `/api/rooms/${roomId}`, headers: { 'x-api-key': ADMIN_API_KEY } })
    t.equal(again.statusCode, 404, 'deleted once')
  })

  t.test(`${mode}: a group deleted by its owner; an empty channel deleted reports nothing`, async (t) => {
    const receiver = await startReceiver(t)
    const { app, url } = await webhookApp(t, mode, [receiver.url], { listen: true })
    const owner = await newUser(app, 'Owner')
    const groupId = await createGroup(app, owner)
    const client = await ChatClient.open(t, url, owner.token)
    await client.ack('join_group', { groupId })
    await receiver.until(() => ofRoom(receiver, groupId).length >= 2, 'the join')
    t.equal((await app.inject({ method: 'DELETE', url: `/api/groups/${groupId}`, headers: bearer(owner.token) })).statusCode, 204)
    const events = await eventsOf(receiver, groupId, 4, 'the group departures')
    t.same(brief(events), [`room.occupied ${owner.user.id} 1`, `member.added ${owner.user.id} 1`, `member.removed ${owner.user.id} 0`, `room.vacated ${owner.user.id} 0 deleted`])
    t.match(events[3].room, { kind: 'group', id: groupId })
    client.close()

    const empty = await createChannel(app, `empty-${mode}`)
    t.equal((await app.inject({ method: 'DELETE', url: `/api/rooms/${empty}`, headers: { 'x-api-key': ADMIN_API_KEY } })).statusCode, 204)
    await settle()
    t.same(ofRoom(receiver, empty), [], 'nobody was in it: nothing vacated')
  })

  t.test(`${mode}: a sync room deleted by its owner with two seats: both freed, one room.vacated`, async (t) => {
    const receiver = await startReceiver(t)
    const { app, url } = await webhookApp(t, mode, [receiver.url], { listen: true })
    const host = await registerUser(app)
    const guest = await registerUser(app)
    const room = await createSyncRoom(app, host.token)
    const sockets = [await syncClient(t, url, { token: host.token }), await syncClient(t, url, { token: guest.token })]
    for (const socket of sockets) await syncJoin(socket, { roomCode: room.code })
    await receiver.until(() => ofRoom(receiver, room.id).length >= 3, 'the seats')
    const forbidden = await app.inject({ method: 'DELETE', url: `/api/sync/rooms/${room.code}`, headers: bearer(guest.token) })
    t.equal(forbidden.statusCode, 403, 'not the owner: refused, nothing written')
    await settle()
    t.equal(ofRoom(receiver, room.id).length, 3)
    t.equal((await app.inject({ method: 'DELETE', url: `/api/sync/rooms/${room.code}`, headers: bearer(host.token) })).statusCode, 204)
    for (const socket of sockets) socket.disconnect()
    const events = await eventsOf(receiver, room.id, 6, 'the seats freed')
    t.same(brief(events).slice(3), [`member.removed ${host.user.id} 1`, `member.removed ${guest.user.id} 0`, `room.vacated ${guest.user.id} 0 deleted`])
    t.equal(events.length, 6, 'exactly once; the sockets going away add nothing')
  })

  t.test(`${mode}: one channel deleted on two instances at once: one 204, one 404, one room.vacated`, { skip: mode === 'embedded' && 'needs a shared store (Redis)' }, async (t) => {
    const receiver = await startReceiver(t)
    const group = `race-${mode}`
    const a = await webhookApp(t, mode, [receiver.url], { listen: true, group })
    const b = await webhookApp(t, mode, [receiver.url], { listen: true, group })
    const [ann, ben] = [await newUser(a.app, 'Ann'), await newUser(a.app, 'Ben')]
    const roomId = await createChannel(a.app, `race-${mode}`)
    const clients = [await ChatClient.open(t, a.url, ann.token), await ChatClient.open(t, b.url, ben.token)]
    for (const client of clients) await client.ack('room:join', { roomId })
    await receiver.until(() => ofRoom(receiver, roomId).length >= 3, 'the joins')
    const codes = await Promise.all([a, b].map(async ({ app }) =>
      (await app.inject({ method: 'DELETE', url: `/api/rooms/${roomId}`, headers: { 'x-api-key': ADMIN_API_KEY } })).statusCode))
    t.same(codes.sort(), [204, 404], 'one instance deleted it')
    for (const client of clients) client.close()
    const events = await eventsOf(receiver, roomId, 6, 'the departures')
    t.equal(events.filter(e => e.type === 'room.vacated').length, 1, 'vacated once')
    t.equal(events.filter(e => e.type === 'member.removed').length, 2, 'each member removed once')
  })

  // Services: two instances sweep the same database; embedded: one instance's own sweep.
  t.test(`${mode}: a sync room that expires (SYNC_ROOM_TTL_MS) with a seat held: vacated once across instances`, async (t) => {
    const receiver = await startReceiver(t)
    const group = `expiry-${mode}`
    const ttl = { syncRoomTtlMs: 1_500, instanceTtlMs: 300 }
    const a = await webhookApp(t, mode, [receiver.url], { listen: true, group, ...ttl })
    const apps = mode === 'services' ? [a, await webhookApp(t, mode, [receiver.url], { listen: true, group, ...ttl })] : [a]
    const host = await registerUser(a.app)
    const room = await createSyncRoom(a.app, host.token)
    const socket = await syncClient(t, a.url, { token: host.token })
    await syncJoin(socket, { roomCode: room.code })
    await until(() => socket.received.some(r => r.event === 'room:closed'), 10_000, 'the room to expire')
    t.match(socket.received.find(r => r.event === 'room:closed')!.payload, { roomCode: room.code, reason: 'expired' })
    const events = await eventsOf(receiver, room.id, 4, 'the expiry')
    t.same(brief(events), [`room.occupied ${host.user.id} 1`, `member.added ${host.user.id} 1`, `member.removed ${host.user.id} 0`, `room.vacated ${host.user.id} 0 expired`],
      `vacated once with ${apps.length} instance(s) sweeping`)
  })
}
