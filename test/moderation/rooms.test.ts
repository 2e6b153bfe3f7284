import t from 'tap'
import { ADMIN_API_KEY, buildTestApp, modes, registerUser, servicesSkipReason } from '../helper.js'
import { createRoom as createPublicRoom, createUser, occupancy, SeedClient } from '../public-rooms/fixtures.js'
import { createRoom as createSyncRoom, failure, join, request, seen, syncClient, SYNC_ENV, until } from '../sync/fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

const admin = { 'x-api-key': ADMIN_API_KEY }

for (const mode of modes()) {
  t.test(`${mode}: admin REST kicks and bans in a public room${mode === 'services' ? ' across two instances' : ''}`, async (t) => {
    const env = { PUBLIC_MAX_CONNECTIONS_PER_IP: '5' }
    const first = await buildTestApp(t, { mode, env })
    const second = mode === 'services' ? await buildTestApp(t, { mode, env, shared: { prefix: first.prefix } }) : first
    const room = await createPublicRoom(first.app)
    const [ann, ben] = [await createUser(first.app, 'Ann'), await createUser(first.app, 'Ben')]
    const a = new SeedClient(t, first.url, room.id)
    const b = new SeedClient(t, second.url, room.id)
    t.equal(await a.joinOrRefusal(ann), 'joined')
    t.equal(await b.joinOrRefusal(ben), 'joined')
    const post = (action: string, payload: object) => first.app.inject({ method: 'POST', url: `/api/moderation/public/${room.id}/${action}`, headers: admin, payload })

    t.equal((await post('mute', { userId: ben.userId })).statusCode, 400, 'public rooms carry no messages')
    const left = a.next('user-left', (d) => d.userId === ben.userId)
    const res = await post('ban', { userId: ben.userId, reason: 'spam' })
    t.equal(res.statusCode, 200)
    t.match(res.json().action, { action: 'ban', roomKind: 'public', roomId: room.id, targetUserId: ben.userId, actorKind: 'admin', reason: 'spam' })
    t.match(await b.next('moderated', undefined, { from: 0 }), { roomId: room.id, action: 'ban', until: null, reason: 'spam' })
    await b.next('disconnect', undefined, { from: 0 })
    t.same(await left, { userId: ben.userId, currentOccupancy: 1 }, 'the others hear user-left')
    t.equal(await occupancy(first.app, room.id), 1)

    const again = new SeedClient(t, first.url, room.id)
    t.equal(await again.joinOrRefusal(ben), 'BANNED', 'join-room refused while banned')
    t.equal(await occupancy(first.app, room.id), 1, 'the refused join changed nothing')
    t.equal((await post('unban', { userId: ben.userId })).statusCode, 200)
    const unbanned = new SeedClient(t, first.url, room.id)
    t.equal(await unbanned.joinOrRefusal(ben), 'joined', 'joins again once unbanned')
    t.equal((await first.app.inject({ method: 'POST', url: '/api/moderation/public/no-such-room/kick', headers: admin, payload: { userId: ben.userId } })).statusCode, 404)
    const log = (await first.app.inject({ method: 'GET', url: `/api/moderation/actions?kind=public&roomId=${room.id}`, headers: admin })).json()
    t.same(log.actions.map((x: any) => x.action), ['ban', 'unban'])
  })

  t.test(`${mode}: the sync host removes a participant; admin REST bans until a moment from now`, async (t) => {
    const first = await buildTestApp(t, { mode, env: SYNC_ENV })
    const second = mode === 'services' ? await buildTestApp(t, { mode, env: SYNC_ENV, shared: { prefix: first.prefix } }) : first
    const host = await registerUser(first.app)
    const viewer = await registerUser(first.app)
    const room = await createSyncRoom(first.app, host.token)
    const h = await syncClient(t, first.url, { token: host.token })
    const v1 = await syncClient(t, second.url, { token: viewer.token })
    const v2 = await syncClient(t, first.url, { token: viewer.token })
    await join(h, { roomCode: room.code })
    const joined = await join(v1, { roomCode: room.code })
    await join(v2, { roomCode: room.code.toLowerCase() })
    const viewerId = joined.participantId

    const hostId = joined.participants.find((p) => p.isHost)!.id
    t.match((await failure(v1, 'room:kick', { participantId: hostId })).error, { code: 'FORBIDDEN' }, 'only the host')
    t.match((await failure(h, 'room:kick', { participantId: hostId })).error, { code: 'INVALID_REQUEST' }, 'not oneself')
    t.match((await failure(h, 'room:kick', { participantId: 'nobody' })).error, { code: 'INVALID_REQUEST' })
    t.same(await request(h, 'room:kick', { participantId: viewerId, reason: 'spoilers' }), { ok: true, participantId: viewerId })
    for (const s of [v1, v2]) {
      await until(() => seen(s, 'moderated').length > 0, 5_000, 'moderated')
      t.same(seen(s, 'moderated')[0], { roomId: room.code, action: 'kick', until: null, reason: 'spoilers' })
    }
    await until(() => seen(h, 'room:participant:left').some((p) => p.participantId === viewerId), 5_000, 'participant left')
    t.match((await failure(h, 'room:join', { roomCode: room.code })).error, { code: 'ALREADY_IN_ROOM' }, 'the host is still in')
    t.match((await failure(v1, 'playback:update', { action: 'pause' })).error, { code: 'NOT_IN_ROOM' }, 'the kicked sockets are out, on both instances')
    t.match((await failure(v2, 'playback:update', { action: 'pause' })).error, { code: 'NOT_IN_ROOM' })

    // A kick is not a ban: the viewer joins again; then an admin bans until a moment from now.
    await join(v1, { roomCode: room.code })
    const untilAt = new Date(Date.now() + 1500)
    const res = await first.app.inject({ method: 'POST', url: `/api/moderation/sync/${room.code.toLowerCase()}/ban`, headers: admin, payload: { userId: viewer.user.id, until: untilAt.toISOString() } })
    t.equal(res.statusCode, 200)
    t.match(res.json().action, { roomKind: 'sync', roomId: room.code, targetUserId: viewer.user.id, until: untilAt.toISOString() })
    await until(() => seen(v1, 'moderated').length > 0, 5_000, 'ban notice')
    t.match((await failure(v2, 'room:join', { roomCode: room.code })).error, { code: 'BANNED' }, 'a banned user cannot rejoin')
    await new Promise(resolve => setTimeout(resolve, Math.max(0, untilAt.getTime() - Date.now()) + 50))
    await join(v2, { roomCode: room.code })
    t.pass('after `until` the join is accepted')
    t.equal((await first.app.inject({ method: 'POST', url: `/api/moderation/sync/${room.code}/mute`, headers: admin, payload: { userId: viewer.user.id } })).statusCode, 400)
    const log = (await first.app.inject({ method: 'GET', url: `/api/moderation/actions?kind=sync&roomId=${room.code.toLowerCase()}`, headers: admin })).json()
    t.same(log.actions.map((x: any) => [x.action, x.actorKind]), [['kick', 'member'], ['ban', 'admin']])
  })
}
