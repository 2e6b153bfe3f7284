import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { buildTestApp, modes, once, registerUser, servicesSkipReason } from '../helper.js'
import { createRoom, failure, inner, join, request, SYNC_ENV, syncClient, until } from './fixtures.js'
import { ROOM_CODE_ALPHABET } from '../../src/sync/codes.js'
import { createSyncRooms } from '../../src/sync/service.js'
import { syncKeys } from '../../src/store/keys.js'
import { isAppError } from '../../src/errors.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

const CODE = /^[A-HJ-NP-Z2-9]{8}$/

t.test('the code alphabet: A–Z and 2–9 without 0/O/1/I', async (t) => {
  t.equal(ROOM_CODE_ALPHABET.length, 32)
  t.equal([...ROOM_CODE_ALPHABET].sort().join(''), '23456789ABCDEFGHJKLMNPQRSTUVWXYZ')
})

for (const mode of modes()) {
  t.test(`${mode}: POST, GET and DELETE /api/sync/rooms`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: SYNC_ENV })
    const { syncRooms } = inner(app)
    const owner = await registerUser(app)
    const stranger = await registerUser(app)
    const auth = (token: string) => ({ authorization: `Bearer ${token}` })

    const anonymous = await app.inject({ method: 'POST', url: '/api/sync/rooms', payload: { name: 'x' } })
    t.equal(anonymous.statusCode, 401)
    t.equal(anonymous.json().code, 'UNAUTHORIZED')
    for (const payload of [{}, { name: '' }, { name: 'x', maxParticipants: 0 }, { name: 'x', maxParticipants: 1.5 }, { name: 'x', password: '' }, { name: 'x', mediaUrl: '' }, { name: 'x', maxParticipants: 101 }]) {
      const res = await app.inject({ method: 'POST', url: '/api/sync/rooms', headers: auth(owner.token), payload })
      t.equal(res.statusCode, 400, JSON.stringify(payload))
      t.equal(res.json().code, 'INVALID_REQUEST')
    }
    const blank = await app.inject({ method: 'POST', url: '/api/sync/rooms', headers: auth(owner.token), payload: { name: '   ' } })
    t.equal(blank.json().code, 'INVALID_REQUEST')

    const res = await app.inject({
      method: 'POST', url: '/api/sync/rooms', headers: auth(owner.token), payload: { name: ' Film club ', password: 'sesame', maxParticipants: 4, mediaUrl: 'https://example.com/x.mp4' }
    })
    t.equal(res.statusCode, 201)
    const room = res.json()
    t.match(room, { name: 'Film club', hasPassword: true, maxParticipants: 4, mediaUrl: 'https://example.com/x.mp4', ownerId: owner.user.id })
    t.match(room.code, CODE)
    t.same(Object.keys(room).sort(), ['code', 'createdAt', 'expiresAt', 'hasPassword', 'id', 'lastActivityAt', 'maxParticipants', 'mediaUrl', 'name', 'ownerId'], 'no password hash')
    t.equal(Date.parse(room.expiresAt) - Date.parse(room.lastActivityAt), 86_400_000, 'expires after the TTL (24 h by default)')
    const row = await syncRooms.repository.byCode(room.code)
    t.match(row?.passwordHash, /^scrypt\$/, 'stored as a scrypt hash')
    t.not(row?.passwordHash, 'sesame')
    const plain = await createRoom(app, owner.token)
    t.match(plain, { hasPassword: false, maxParticipants: 10, mediaUrl: null })
    t.not(plain.code, room.code)

    // GET: case-insensitive; unknown and malformed codes are ROOM_NOT_FOUND.
    for (const code of [room.code, room.code.toLowerCase(), ` ${room.code.toLowerCase()} `]) {
      const got = await app.inject(`/api/sync/rooms/${encodeURIComponent(code)}`)
      t.equal(got.statusCode, 200, code)
      t.same(got.json(), room)
    }
    for (const code of ['ZZZZZZZZ', 'short', 'O0I1O0I1']) {
      const got = await app.inject(`/api/sync/rooms/${code}`)
      t.equal(got.statusCode, 404)
      t.same(got.json(), { code: 'ROOM_NOT_FOUND', message: 'Room not found or expired' })
    }

    // DELETE: owner only; connected participants are told and the state is gone.
    const member = await syncClient(t, url)
    await join(member, { roomCode: room.code, guestName: 'Bob', password: 'sesame' })
    await request(member, 'playback:update', { action: 'play' })
    t.equal((await app.inject({ method: 'DELETE', url: `/api/sync/rooms/${room.code}` })).statusCode, 401)
    const forbidden = await app.inject({ method: 'DELETE', url: `/api/sync/rooms/${room.code}`, headers: auth(stranger.token) })
    t.equal(forbidden.statusCode, 403)
    t.equal(forbidden.json().code, 'FORBIDDEN')
    const notFound = await app.inject({ method: 'DELETE', url: '/api/sync/rooms/ZZZZZZZZ', headers: auth(owner.token) })
    t.equal(notFound.json().code, 'ROOM_NOT_FOUND')

    const closed = once(member, 'room:closed')
    const error = once(member, 'room:error')
    const deleted = await app.inject({ method: 'DELETE', url: `/api/sync/rooms/${room.code.toLowerCase()}`, headers: auth(owner.token) })
    t.equal(deleted.statusCode, 204)
    t.same(await closed, { roomCode: room.code, reason: 'deleted' })
    t.same(await error, { code: 'ROOM_NOT_FOUND', message: 'The room was deleted' })
    t.equal((await app.inject(`/api/sync/rooms/${room.code}`)).statusCode, 404)
    t.same(await inner(app).store.scan(`room:${room.id}:*`), [], 'no store keys left')
    t.same(await syncRooms.repository.participantRows(room.id), [], 'participant rows went with it')
    t.equal((await failure(member, 'playback:update', { action: 'pause' })).error.code, 'NOT_IN_ROOM')
    t.equal((await join(member, { roomCode: plain.code, guestName: 'Bob' })).room.id, plain.id, 'free to join another room')
  })

  t.test(`${mode}: rooms expire after SYNC_ROOM_TTL_MS without activity`, async (t) => {
    const TTL = 1000
    const { app, url } = await buildTestApp(t, { mode, env: { ...SYNC_ENV, SYNC_ROOM_TTL_MS: String(TTL) } })
    const { store, syncRooms } = inner(app)
    const owner = await registerUser(app)

    // Activity moves the expiry.
    const room = await createRoom(app, owner.token)
    const host = await syncClient(t, url, { token: owner.token })
    await sleep(20)
    const state = await join(host, { roomCode: room.code })
    t.ok(Date.parse(state.room.expiresAt) > Date.parse(room.expiresAt), 'joining is activity')
    await sleep(20)
    await request(host, 'playback:update', { action: 'play' })
    const touched = (await app.inject(`/api/sync/rooms/${room.code}`)).json()
    t.ok(Date.parse(touched.expiresAt) > Date.parse(state.room.expiresAt), 'so is playback')
    t.equal(Date.parse(touched.expiresAt) - Date.parse(touched.lastActivityAt), TTL)
    const ttl = await store.pttl(syncKeys.playback(room.id))
    t.ok(ttl > 0 && ttl <= TTL, 'store keys share the TTL')

    // Then nothing happens: the participant is told, the row and the keys are gone.
    const closed = once(host, 'room:closed', TTL * 10)
    const error = once(host, 'room:error', TTL * 10)
    t.same(await closed, { roomCode: room.code, reason: 'expired' })
    t.equal((await error).code, 'ROOM_NOT_FOUND')
    t.equal((await app.inject(`/api/sync/rooms/${room.code}`)).statusCode, 404)
    t.equal(await syncRooms.repository.byId(room.id), null)
    await until(async () => (await store.scan(`room:${room.id}:*`)).length === 0, TTL * 5, 'store keys to go')

    // An idle room is ROOM_NOT_FOUND as soon as it expires, sweep or not.
    const idle = await createRoom(app, owner.token)
    const guest = await syncClient(t, url)
    await sleep(TTL + 50)
    t.equal((await failure(guest, 'room:join', { roomCode: idle.code, guestName: 'Bob' })).error.code, 'ROOM_NOT_FOUND')
    t.equal((await app.inject(`/api/sync/rooms/${idle.code}`)).statusCode, 404)
  })

  t.test(`${mode}: a code collision is retried; running out of codes is an error`, async (t) => {
    const { app } = await buildTestApp(t, { mode, env: SYNC_ENV })
    const { sql, store, instanceId, limiters } = inner(app)
    const codes = ['KKKKKKKK', 'KKKKKKKK', 'KKKKKKKK', 'MMMMMMMM']
    const service = createSyncRooms({
      db: sql.db,
      store,
      instanceId,
      ttlMs: 60_000,
      graceMs: 1000,
      instanceTtlMs: 15_000,
      passwordLimiter: limiters.create('sync-password-test', 5, 60_000),
      // Creating rooms tells no socket anything.
      outbox: { send () {}, deliver: async () => {}, empty () {} },
      generateCode: () => codes.shift() ?? 'KKKKKKKK'
    })
    const first = await service.createRoom('owner', { name: 'one' })
    t.equal(first.code, 'KKKKKKKK')
    const second = await service.createRoom('owner', { name: 'two' })
    t.equal(second.code, 'MMMMMMMM', 'the colliding codes were skipped')
    const third = await service.createRoom('owner', { name: 'three' }).catch((err: unknown) => err)
    t.ok(isAppError(third) && third.code === 'INTERNAL_ERROR', 'gives up after a few collisions')
    t.equal((await app.inject('/api/sync/rooms/kkkkkkkk')).json().id, first.id)
  })
}
