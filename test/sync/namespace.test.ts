import t from 'tap'
import { buildTestApp, modes, once, registerUser, servicesSkipReason } from '../helper.js'
import { createRoom, failure, flush, inner, join, request, seen, settle, SYNC_ENV, syncClient } from './fixtures.js'
import { syncKeys } from '../../src/store/keys.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

for (const mode of modes()) {
  t.test(`${mode}: seed 002 connection flow, registered host and guest`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: SYNC_ENV })
    const { store, syncRooms: sync } = inner(app)
    const owner = await registerUser(app, undefined, 'Ada')
    const room = await createRoom(app, owner.token, { maxParticipants: 3, mediaUrl: 'https://example.com/film.mp4' })

    // 1–3. Connect: a valid token is a registered user, no token a guest; each socket has its id.
    const host = await syncClient(t, url, { token: owner.token })
    const guest = await syncClient(t, url)
    t.ok(host.id && guest.id && host.id !== guest.id, 'each connection gets its own session id')

    // 4–9. room:join (code in any case) → room:state to the joiner.
    const hostState = await join(host, { roomCode: room.code.toLowerCase() })
    t.match(hostState.room, { id: room.id, code: room.code, name: 'Movie night', hasPassword: false, maxParticipants: 3, mediaUrl: 'https://example.com/film.mp4', ownerId: owner.user.id })
    t.notOk('passwordHash' in hostState.room)
    t.equal(hostState.playback, null, 'nothing played yet')
    t.equal(hostState.participants.length, 1)
    const hostParticipant = hostState.participants[0]
    t.match(hostParticipant, { id: hostState.participantId, userId: owner.user.id, displayName: 'Ada', isGuest: false, isHost: true })
    t.ok(Date.parse(hostParticipant.joinedAt))
    t.notOk('resumeToken' in hostState, 'registered users resume by identity')

    // 7. participant row in SQL; 8. store state with the room's TTL.
    const rows = await sync.repository.participantRows(room.id)
    t.match(rows, [{ id: hostParticipant.id, userId: owner.user.id, isHost: true, isGuest: false }])
    const stored = await store.hGetAll(syncKeys.participants(room.id))
    t.same(Object.keys(stored), [hostParticipant.id])
    t.same(await store.sMembers(syncKeys.online(room.id)), [host.id])
    const ttl = await store.pttl(syncKeys.participants(room.id))
    t.ok(ttl > 0 && ttl <= 86_400_000, 'store keys carry the room TTL')

    // 10. the others get room:participant:joined.
    const joined = once(host, 'room:participant:joined')
    const guestState = await join(guest, { roomCode: ` ${room.code} `, guestName: '  Bob  ' })
    const { participant } = await joined
    t.match(participant, { id: guestState.participantId, userId: null, displayName: 'Bob', isGuest: true, isHost: false })
    t.same(guestState.participants.map((p) => p.id), [hostParticipant.id, participant.id], 'both, in join order')
    t.type(guestState.resumeToken, 'string', 'a guest gets a resume token')
    t.same((await store.sMembers(syncKeys.online(room.id))).sort(), [host.id, guest.id].sort())
    t.equal((await sync.repository.participantRows(room.id)).length, 2)

    await flush(guest)
    t.same(seen(guest, 'room:participant:joined'), [], 'the joiner is not told about itself')
    t.same(seen(host, 'room:state').length, 1)
  })

  t.test(`${mode}: playback:update and sync:time`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: SYNC_ENV })
    const { store } = inner(app)
    const owner = await registerUser(app)
    const room = await createRoom(app, owner.token, { mediaUrl: 'https://example.com/a.mp4' })
    const host = await syncClient(t, url, { token: owner.token })
    const guest = await syncClient(t, url)
    const { participantId: hostId } = await join(host, { roomCode: room.code })
    const { participantId: guestId } = await join(guest, { roomCode: room.code, guestName: 'Bob' })

    const before = Date.now()
    const toGuest = once(guest, 'playback:state')
    const toHost = once(host, 'playback:state')
    const ack = await request(host, 'playback:update', { action: 'play', position: 10 })
    const played = await toGuest
    t.same(await toHost, played, 'the sender gets playback:state too')
    t.same(ack, played, 'and the ack')
    t.match(played, { status: 'playing', position: 10, rate: 1, mediaUrl: 'https://example.com/a.mp4', updatedBy: hostId })
    t.ok(played.updatedAt >= before && played.updatedAt <= Date.now(), 'stamped with the server clock')

    const paused = once(host, 'playback:state')
    await request(guest, 'playback:update', { action: 'pause' })
    const p = await paused
    t.match(p, { status: 'paused', updatedBy: guestId })
    t.ok(p.position >= 10, 'pausing keeps the running position')

    const seek = await request(guest, 'playback:update', { action: 'seek', position: 99.5 })
    t.match(seek, { status: 'paused', position: 99.5 })
    const rate = await request(guest, 'playback:update', { action: 'rate', rate: 1.5 })
    t.match(rate, { rate: 1.5, position: 99.5 })
    const media = await request(host, 'playback:update', { action: 'media', mediaUrl: 'https://example.com/b.mp4' })
    t.match(media, { status: 'paused', position: 0, rate: 1.5, mediaUrl: 'https://example.com/b.mp4' })
    t.equal((await app.inject(`/api/sync/rooms/${room.code}`)).json().mediaUrl, 'https://example.com/b.mp4', 'the room keeps the medium')
    const stored = JSON.parse(await store.get(syncKeys.playback(room.id)) ?? 'null')
    t.same(stored, media, 'stored under room:{id}:playback')

    for (const bad of [{ action: 'seek' }, { action: 'rate' }, { action: 'media' }, { action: 'jump' }, { action: 'play', position: -1 }, { action: 'rate', rate: 0 }]) {
      const { ack, error } = await failure(guest, 'playback:update', bad)
      t.equal(error.code, 'INVALID_REQUEST', JSON.stringify(bad))
      t.same(ack, { ok: false, error })
    }

    const time = await request(guest, 'sync:time', { clientTime: 1234.5 })
    t.equal(time.clientTime, 1234.5)
    t.type(time.serverTime, 'number')
    const { error } = await failure(guest, 'sync:time', {})
    t.equal(error.code, 'INVALID_REQUEST')

    await settle(host)
    t.equal(seen(host, 'playback:state').length, 6, 'every accepted update reached the room once')
  })

  t.test(`${mode}: seed 002 disconnection flow`, async (t) => {
    // A long grace: any `left` seen here comes from leaving at once, not from the grace.
    const { app, url } = await buildTestApp(t, { mode, env: { ...SYNC_ENV, SYNC_RECONNECT_GRACE_MS: '600000' } })
    const { store, syncRooms: sync } = inner(app)
    const owner = await registerUser(app)
    const room = await createRoom(app, owner.token)
    const host = await syncClient(t, url, { token: owner.token })
    const guest = await syncClient(t, url)
    await join(host, { roomCode: room.code })
    const first = await join(guest, { roomCode: room.code, guestName: 'Bob' })

    // 1. room:leave (no payload at all) → 2. store → 3. SQL → 4. the others → 5. socket data.
    let left = once(host, 'room:participant:left')
    t.same(await request(guest, 'room:leave'), { ok: true })
    t.same(await left, { participantId: first.participantId, userId: null, oderId: first.participantId })
    t.notOk(await store.hGet(syncKeys.participants(room.id), first.participantId))
    t.notOk(await store.sIsMember(syncKeys.online(room.id), guest.id!))
    t.equal((await sync.repository.participantRows(room.id)).length, 1)
    t.equal((await failure(guest, 'playback:update', { action: 'play' })).error.code, 'NOT_IN_ROOM', 'the socket is out of the room')
    t.equal((await failure(guest, 'room:leave', {})).error.code, 'NOT_IN_ROOM')
    const played = once(host, 'playback:state')
    await request(host, 'playback:update', { action: 'play' })
    await played
    await flush(guest)
    t.equal(seen(guest, 'playback:state').length, 0, 'nor does it get the room\'s broadcasts')

    // The same socket may join again: a new participant.
    const joined = once(host, 'room:participant:joined')
    const second = await join(guest, { roomCode: room.code, guestName: 'Bob again' })
    t.not(second.participantId, first.participantId)
    t.equal((await joined).participant.id, second.participantId)

    // A deliberate client disconnect() leaves at once.
    left = once(host, 'room:participant:left')
    guest.disconnect()
    t.equal((await left).participantId, second.participantId)
    t.same(Object.keys(await store.hGetAll(syncKeys.participants(room.id))).length, 1)
    t.equal((await sync.repository.participantRows(room.id)).length, 1)
    t.equal(await store.zCard('deadlines:sync-grace'), 0, 'no grace for a deliberate disconnect')

    // The host's own leave empties the room; the host may come back.
    t.same(await request(host, 'room:leave', {}), { ok: true })
    t.same(await store.hGetAll(syncKeys.participants(room.id)), {})
    t.equal((await sync.repository.participantRows(room.id)).length, 0)
    const again = await join(host, { roomCode: room.code })
    t.equal(again.participants.length, 1)
  })

  t.test(`${mode}: every room:error code`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { ...SYNC_ENV, SYNC_PASSWORD_ATTEMPTS: '2' } })
    const { syncRooms: sync } = inner(app)
    const owner = await registerUser(app)
    const other = await registerUser(app)
    const open = await createRoom(app, owner.token, { maxParticipants: 2 })
    const locked = await createRoom(app, owner.token, { password: 'sesame' })
    const locked2 = await createRoom(app, owner.token, { password: 'sesame' })
    const code = async (socket: Parameters<typeof failure>[0], event: string, payload?: unknown) => {
      const { ack, error } = await failure(socket, event, payload)
      t.same(ack, { ok: false, error }, `${event} acks the error too`)
      t.type(error.message, 'string')
      return error.code as string
    }

    // INVALID_TOKEN: the handshake fails.
    const bad = syncClient(t, url, { token: 'not-a-jwt' })
    const err = await bad.then(() => null, (e: Error & { data?: { code: string } }) => e)
    t.equal(err?.data?.code, 'INVALID_TOKEN')

    const guest = await syncClient(t, url)
    const user = await syncClient(t, url, { token: other.token })

    // INVALID_REQUEST: payloads that fail their schema.
    t.equal(await code(guest, 'room:join', { roomCode: 42 }), 'INVALID_REQUEST')
    t.equal(await code(guest, 'room:join'), 'INVALID_REQUEST')
    t.equal(await code(guest, 'room:join', { roomCode: open.code, guestName: 'x'.repeat(65) }), 'INVALID_REQUEST')
    t.equal(await code(guest, 'room:leave', 'now'), 'INVALID_REQUEST')

    // UNAUTHORIZED: a guest without a name (checked before the room).
    t.equal(await code(guest, 'room:join', { roomCode: open.code }), 'UNAUTHORIZED')
    t.equal(await code(guest, 'room:join', { roomCode: 'ZZZZZZZZ', guestName: '   ' }), 'UNAUTHORIZED')

    // ROOM_NOT_FOUND: unknown, and not even code-shaped.
    t.equal(await code(guest, 'room:join', { roomCode: 'ZZZZZZZZ', guestName: 'Bob' }), 'ROOM_NOT_FOUND')
    t.equal(await code(user, 'room:join', { roomCode: 'nope' }), 'ROOM_NOT_FOUND')

    // NOT_IN_ROOM: room events before joining.
    t.equal(await code(guest, 'room:leave', {}), 'NOT_IN_ROOM')
    t.equal(await code(guest, 'playback:update', { action: 'play' }), 'NOT_IN_ROOM')

    // INVALID_PASSWORD, then RATE_LIMITED per IP and room — even for the right password.
    t.equal(await code(guest, 'room:join', { roomCode: locked.code, guestName: 'Bob' }), 'INVALID_PASSWORD', 'no password')
    t.equal(await code(guest, 'room:join', { roomCode: locked.code, guestName: 'Bob', password: 'wrong' }), 'INVALID_PASSWORD')
    t.equal(await code(user, 'room:join', { roomCode: locked.code, password: 'wrong' }), 'INVALID_PASSWORD')
    t.equal(await code(guest, 'room:join', { roomCode: locked.code, guestName: 'Bob', password: 'sesame' }), 'RATE_LIMITED')
    const elsewhere = await syncClient(t, url, { localAddress: '127.0.0.2' })
    t.equal((await join(elsewhere, { roomCode: locked.code, guestName: 'Eve', password: 'sesame' })).room.hasPassword, true, 'another IP is not limited')
    // Only failures in a row count: a success resets them.
    t.equal(await code(guest, 'room:join', { roomCode: locked2.code, guestName: 'Bob', password: 'wrong' }), 'INVALID_PASSWORD')
    await join(guest, { roomCode: locked2.code, guestName: 'Bob', password: 'sesame' })
    await request(guest, 'room:leave')
    t.equal(await code(guest, 'room:join', { roomCode: locked2.code, guestName: 'Bob', password: 'wrong' }), 'INVALID_PASSWORD')
    t.equal(await code(guest, 'room:join', { roomCode: locked2.code, guestName: 'Bob', password: 'wrong' }), 'INVALID_PASSWORD')
    t.equal(await code(guest, 'room:join', { roomCode: locked2.code, guestName: 'Bob', password: 'wrong' }), 'RATE_LIMITED')

    // ALREADY_IN_ROOM: one room per socket (the same one or another).
    await join(user, { roomCode: open.code })
    t.equal(await code(user, 'room:join', { roomCode: open.code }), 'ALREADY_IN_ROOM')
    t.equal(await code(user, 'room:join', { roomCode: locked.code, password: 'sesame' }), 'RATE_LIMITED', 'limits still apply')

    // ROOM_FULL: two seats (the user and a guest); the host's seat would be a third.
    await join(guest, { roomCode: open.code, guestName: 'Bob' })
    const host = await syncClient(t, url, { token: owner.token })
    t.equal(await code(host, 'room:join', { roomCode: open.code }), 'ROOM_FULL')
    t.equal(await code(elsewhere, 'room:join', { roomCode: open.code, guestName: 'Eve' }), 'ROOM_FULL', 'capacity is checked before ALREADY_IN_ROOM (seed 002 order)')
    // A second socket of a user who has a seat is not a new participant, so the room is not full for it.
    const userAgain = await syncClient(t, url, { token: other.token })
    t.equal((await join(userAgain, { roomCode: open.code })).participants.length, 2)
    t.equal((await sync.repository.participantRows(open.id)).length, 2)

    // INTERNAL_ERROR cannot be provoked from a client without breaking PostgreSQL or Redis.
  })

  t.test(`${mode}: a registered user on two sockets is one participant`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { ...SYNC_ENV, SYNC_RECONNECT_GRACE_MS: '600000' } })
    const { syncRooms: sync } = inner(app)
    const owner = await registerUser(app)
    const viewer = await registerUser(app, undefined, 'Viewer')
    const room = await createRoom(app, owner.token)
    const host = await syncClient(t, url, { token: owner.token })
    await join(host, { roomCode: room.code })
    const tab1 = await syncClient(t, url, { token: viewer.token })
    const tab2 = await syncClient(t, url, { token: viewer.token })
    const joined = once(host, 'room:participant:joined')
    const s1 = await join(tab1, { roomCode: room.code })
    await joined
    const s2 = await join(tab2, { roomCode: room.code })
    t.equal(s2.participantId, s1.participantId, 'the second socket is the same participant')
    t.equal(s2.participants.length, 2)
    t.equal((await sync.repository.participantRows(room.id)).length, 2)

    // Playback reaches both sockets; leaving from one keeps the participant.
    const both = Promise.all([once(tab1, 'playback:state'), once(tab2, 'playback:state')])
    await request(host, 'playback:update', { action: 'play' })
    await both
    t.same(await request(tab1, 'room:leave', {}), { ok: true })
    await settle(host)
    t.equal(seen(host, 'room:participant:joined').length, 1, 'one joined for two sockets')
    t.equal(seen(host, 'room:participant:left').length, 0, 'no left while a socket remains')
    const left = once(host, 'room:participant:left')
    tab2.disconnect()
    t.same(await left, { participantId: s1.participantId, userId: viewer.user.id, oderId: s1.participantId })
  })
}
