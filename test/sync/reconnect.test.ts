import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { buildTestApp, connected, modes, once, registerUser, servicesSkipReason } from '../helper.js'
import { createRoom, failure, inner, join, request, seen, settle, SYNC_ENV, syncClient, until, type Recorded } from './fixtures.js'
import { syncKeys } from '../../src/store/keys.js'
import type { RoomStatePayload } from '../../src/contract/sync.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

/** Long enough for a rejoin to land inside it on a loaded machine; "past the grace" tests use SYNC_ENV's. */
const WITHIN = { ...SYNC_ENV, SYNC_RECONNECT_GRACE_MS: '3000' }
const GRACE_KEY = 'deadlines:sync-grace'

/** Drops the client's transport (as a network loss would) and waits until the server noticed. */
async function dropTransport (app: Parameters<typeof inner>[0], roomId: string, socket: Recorded): Promise<void> {
  const { store } = inner(app)
  const id = socket.id!
  const gone = once(socket, 'disconnect')
  socket.io.engine.close()
  await gone
  await until(async () => !(await store.sIsMember(syncKeys.online(roomId), id)), 5_000, 'the server to see the drop')
}

const churn = (socket: Recorded) => [...seen(socket, 'room:participant:joined'), ...seen(socket, 'room:participant:left')]

for (const mode of modes()) {
  t.test(`${mode}: transport lost and recovered within the grace`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: WITHIN })
    const { store } = inner(app)
    const owner = await registerUser(app)
    const room = await createRoom(app, owner.token)
    const host = await syncClient(t, url, { token: owner.token })
    const viewer = await syncClient(t, url)
    const { participantId: hostId } = await join(host, { roomCode: room.code })
    const joined = once(host, 'room:participant:joined')
    const before = await join(viewer, { roomCode: room.code, guestName: 'Bob' })
    await joined

    await dropTransport(app, room.id, viewer)
    t.not(await store.zScore(GRACE_KEY, `${room.id}|${before.participantId}`), null, 'the seat waits for the grace')
    t.ok(await store.hGet(syncKeys.participants(room.id), before.participantId), 'and is kept')

    // A change the viewer misses.
    const played = once(host, 'playback:state')
    await request(host, 'playback:update', { action: 'play', position: 42 })
    await played

    const state = once<RoomStatePayload>(viewer, 'room:state')
    viewer.connect()
    await connected(viewer)
    t.equal(viewer.recovered, true, 'Socket.IO recovered the connection')
    const after = await state
    t.equal(after.participantId, before.participantId, 'same participant')
    t.equal(after.resumeToken, before.resumeToken)
    t.match(after.playback, { status: 'playing', position: 42, updatedBy: hostId }, 'room:state has the change it missed')
    t.match(seen(viewer, 'playback:state'), [{ position: 42 }], 'and recovery replayed the broadcast')
    t.equal(await store.zScore(GRACE_KEY, `${room.id}|${before.participantId}`), null, 'the grace is cancelled')
    t.ok(await store.sIsMember(syncKeys.online(room.id), viewer.id!))

    // Still in the room: it plays along, and nobody saw it leave or join again, even after the grace.
    const back = once(host, 'playback:state')
    await request(viewer, 'playback:update', { action: 'pause' })
    t.equal((await back).updatedBy, before.participantId)
    await sleep(Number(WITHIN.SYNC_RECONNECT_GRACE_MS) + 200)
    await settle(host)
    t.equal(seen(host, 'room:participant:joined').length, 1, 'only the first join')
    t.same(seen(host, 'room:participant:left'), [], 'no left')
    t.equal((await inner(app).syncRooms.repository.participantRows(room.id)).length, 2)
  })

  t.test(`${mode}: socket.io-client reconnecting by itself gets room:state back`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: WITHIN })
    const owner = await registerUser(app)
    const room = await createRoom(app, owner.token)
    const host = await syncClient(t, url, { token: owner.token })
    const viewer = await syncClient(t, url, { token: (await registerUser(app)).token, reconnection: true })
    await join(host, { roomCode: room.code })
    const before = await join(viewer, { roomCode: room.code })

    const again = once<RoomStatePayload>(viewer, 'room:state')
    viewer.io.engine.close()
    const after = await again
    t.equal(viewer.recovered, true)
    t.equal(after.participantId, before.participantId)
    t.equal(after.participants.length, 2)
    await settle(host)
    t.same(churn(host).length, 1, 'just the original joined')
  })

  t.test(`${mode}: a new socket resumes the participant within the grace`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: WITHIN })
    const { store } = inner(app)
    const owner = await registerUser(app)
    const member = await registerUser(app, undefined, 'Member')
    const room = await createRoom(app, owner.token)
    const host = await syncClient(t, url, { token: owner.token })
    await join(host, { roomCode: room.code })

    // A registered user: the same identity from a new connection.
    const first = await syncClient(t, url, { token: member.token })
    const seat = await join(first, { roomCode: room.code })
    await dropTransport(app, room.id, first)
    const played = once(host, 'playback:state')
    await request(host, 'playback:update', { action: 'seek', position: 7 })
    await played
    const second = await syncClient(t, url, { token: member.token })
    const resumed = await join(second, { roomCode: room.code })
    t.equal(resumed.participantId, seat.participantId)
    t.match(resumed.playback, { position: 7 }, 'with the change it missed')
    t.equal(await store.zScore(GRACE_KEY, `${room.id}|${seat.participantId}`), null)

    // A guest: with the resume token it was given.
    const guest = await syncClient(t, url)
    const guestSeat = await join(guest, { roomCode: room.code, guestName: 'Bob' })
    await dropTransport(app, room.id, guest)
    const guestAgain = await syncClient(t, url)
    const guestResumed = await join(guestAgain, { roomCode: room.code, guestName: 'Bob', resumeToken: guestSeat.resumeToken })
    t.equal(guestResumed.participantId, guestSeat.participantId)
    t.equal(guestResumed.resumeToken, guestSeat.resumeToken)
    t.equal(guestResumed.participants.length, 3)

    // A stale or made-up token is a new guest with a fresh token.
    const stranger = await syncClient(t, url)
    const fresh = await join(stranger, { roomCode: room.code, guestName: 'Eve', resumeToken: 'made-up' })
    t.not(fresh.participantId, guestSeat.participantId)
    t.not(fresh.resumeToken, 'made-up')

    await settle(host)
    t.same(seen(host, 'room:participant:joined').map((e) => e.participant.id), [seat.participantId, guestSeat.participantId, fresh.participantId])
    t.same(seen(host, 'room:participant:left'), [], 'no churn for the resumed ones')
    t.equal((await inner(app).syncRooms.repository.participantRows(room.id)).length, 4)
  })

  t.test(`${mode}: away longer than the grace is reported left`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: SYNC_ENV })
    const { store, syncRooms } = inner(app)
    const owner = await registerUser(app)
    const room = await createRoom(app, owner.token)
    const host = await syncClient(t, url, { token: owner.token })
    const viewer = await syncClient(t, url)
    await join(host, { roomCode: room.code })
    const seat = await join(viewer, { roomCode: room.code, guestName: 'Bob' })

    const left = once(host, 'room:participant:left')
    await dropTransport(app, room.id, viewer)
    t.same(await left, { participantId: seat.participantId, userId: null, oderId: seat.participantId })
    t.equal(await store.hGet(syncKeys.participants(room.id), seat.participantId), null)
    t.equal((await syncRooms.repository.participantRows(room.id)).length, 1)

    // Its session is still recoverable by Socket.IO, but the seat is gone: it is told so.
    const error = once(viewer, 'room:error')
    viewer.connect()
    await connected(viewer)
    t.equal(viewer.recovered, true)
    t.equal((await error).code, 'NOT_IN_ROOM')
    t.equal((await failure(viewer, 'playback:update', { action: 'play' })).error.code, 'NOT_IN_ROOM')
    const joined = once(host, 'room:participant:joined')
    const again = await join(viewer, { roomCode: room.code, guestName: 'Bob' })
    t.not(again.participantId, seat.participantId, 'joining again is a new participant')
    t.equal((await joined).participant.id, again.participantId)

    // The same with a registered user and a new socket that comes too late.
    const member = await registerUser(app)
    const late = await syncClient(t, url, { token: member.token })
    const lateSeat = await join(late, { roomCode: room.code })
    const lateLeft = once(host, 'room:participant:left')
    await dropTransport(app, room.id, late)
    t.same(await lateLeft, { participantId: lateSeat.participantId, userId: member.user.id, oderId: lateSeat.participantId })
    const comeback = await syncClient(t, url, { token: member.token })
    t.not((await join(comeback, { roomCode: room.code })).participantId, lateSeat.participantId)
  })
}

if (modes().includes('services')) {
  const ENV = { ...WITHIN, INSTANCE_TTL_MS: '600' }

  t.test('services: two instances, one room', async (t) => {
    const one = await buildTestApp(t, { mode: 'services', env: ENV, instanceId: 'sync-a' })
    const two = await buildTestApp(t, { mode: 'services', env: ENV, instanceId: 'sync-b', shared: { prefix: one.prefix } })
    const owner = await registerUser(one.app)
    const room = await createRoom(one.app, owner.token)
    const host = await syncClient(t, one.url, { token: owner.token })
    const viewer = await syncClient(t, two.url)
    const { participantId: hostId } = await join(host, { roomCode: room.code })
    const joined = once(host, 'room:participant:joined')
    const seat = await join(viewer, { roomCode: room.code, guestName: 'Bob' })
    t.equal((await joined).participant.id, seat.participantId, 'joined crosses instances')
    t.same(seat.participants.map((p) => p.id), [hostId, seat.participantId])

    let states = Promise.all([once(host, 'playback:state'), once(viewer, 'playback:state')])
    await request(host, 'playback:update', { action: 'play', position: 3 })
    for (const state of await states) t.match(state, { status: 'playing', position: 3, updatedBy: hostId })
    states = Promise.all([once(host, 'playback:state'), once(viewer, 'playback:state')])
    await request(viewer, 'playback:update', { action: 'seek', position: 30 })
    for (const state of await states) t.match(state, { position: 30, updatedBy: seat.participantId })

    // The viewer drops on one instance and resumes through the other, within the grace.
    const member = await registerUser(one.app)
    const first = await syncClient(t, two.url, { token: member.token })
    const memberSeat = await join(first, { roomCode: room.code })
    await dropTransport(two.app, room.id, first)
    const second = await syncClient(t, one.url, { token: member.token })
    t.equal((await join(second, { roomCode: room.code })).participantId, memberSeat.participantId)

    const left = once(host, 'room:participant:left')
    await request(viewer, 'room:leave', {})
    t.equal((await left).participantId, seat.participantId, 'left crosses instances')
    await settle(host)
    t.equal(seen(host, 'room:participant:joined').length, 2, 'Bob and the member, once each')
    t.equal(seen(host, 'room:participant:left').length, 1)
  })

  t.test('services: a crashed instance\'s participants are reported left after the grace', async (t) => {
    const one = await buildTestApp(t, { mode: 'services', env: ENV, instanceId: 'sync-crash' })
    const two = await buildTestApp(t, { mode: 'services', env: ENV, instanceId: 'sync-survivor', shared: { prefix: one.prefix } })
    const owner = await registerUser(two.app)
    const room = await createRoom(two.app, owner.token)
    const host = await syncClient(t, two.url, { token: owner.token })
    const viewer = await syncClient(t, one.url)
    await join(host, { roomCode: room.code })
    const seat = await join(viewer, { roomCode: room.code, guestName: 'Bob' })

    // The crash, as far as the others can tell: no more heartbeats and no cleanup.
    const left = once(host, 'room:participant:left', 10_000)
    inner(one.app).instances.stopHeartbeat()
    t.equal((await left).participantId, seat.participantId)
    t.equal((await inner(two.app).syncRooms.repository.participantRows(room.id)).length, 1)
    t.notOk(await inner(two.app).store.sIsMember(syncKeys.instances, 'sync-crash'), 'its entries were taken')
  })

  t.test('services: an instance shutting down hands its participants to the grace', async (t) => {
    const one = await buildTestApp(t, { mode: 'services', env: { ...ENV, SYNC_RECONNECT_GRACE_MS: '300' }, instanceId: 'sync-stop' })
    const two = await buildTestApp(t, { mode: 'services', env: ENV, instanceId: 'sync-stays', shared: { prefix: one.prefix } })
    const owner = await registerUser(two.app)
    const room = await createRoom(two.app, owner.token)
    const host = await syncClient(t, two.url, { token: owner.token })
    const viewer = await syncClient(t, one.url)
    await join(host, { roomCode: room.code })
    const seat = await join(viewer, { roomCode: room.code, guestName: 'Bob' })

    const left = once(host, 'room:participant:left')
    await one.app.close()
    t.equal((await left).participantId, seat.participantId, 'the surviving instance reports it')
  })
}
