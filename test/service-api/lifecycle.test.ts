import t from 'tap'
import { buildTestApp, modes, registerUser, servicesSkipReason } from '../helper.js'
import { claims, hs256 } from '../tokens.js'
import { eachBackend } from '../store/fixtures/backends.js'
import { createConnectionRegistry, realtimeKeys } from '../../src/service-api/registry.js'
import { Client, bareApp, crossReady, openClient, serviceEvent } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

const MINUTE = 60_000
const token = (sub: string, username: string) => hs256(claims({ sub, username, name: username }))

for (const mode of modes()) {
  t.test(`${mode}: cleanup(inactiveMinutes) disconnects the sockets idle for longer${mode === 'services' ? ', on the other instance too' : ''}`, async (t) => {
    // The service API's clock, moved in minutes; sockets and the store run in real time.
    let clock = Date.now()
    const now = () => clock
    const first = await bareApp(t, { mode, now })
    const second = mode === 'services' ? await bareApp(t, { mode, now, prefix: first.prefix }) : first
    const busy = await openClient(t, first.app, first.url, token(`busy-${mode}`, 'busy'))
    const idle = await openClient(t, second.app, second.url, token(`idle-${mode}`, 'idle'))
    const idleId = idle.id
    if (mode === 'services') await crossReady(first.app, idle)
    t.equal(await first.app.realtime.cleanup(30), 0, 'nobody has been idle for 30 minutes')

    clock += 31 * MINUTE
    // Any client event is activity (its write is issued before the event is handled).
    t.equal((await busy.ack('room:join', { roomId: 'room-123' })).error.code, 'ROOM_NOT_FOUND')
    const user = await first.app.realtime.getUser(busy.id)
    t.equal(user!.lastActivity.getTime(), clock)
    const gone = serviceEvent(second.app, 'disconnect', (u) => u.socketId === idleId)
    t.equal(await first.app.realtime.cleanup(30), 1, 'one socket idle for 31 minutes')
    t.equal(await idle.next('disconnect'), 'io server disconnect')
    const [goneUser, reason] = await gone
    t.match(goneUser, { id: `idle-${mode}`, socketId: idleId })
    t.equal(reason, 'inactive')
    t.ok(busy.socket.connected, 'the active socket stays')
    t.equal(await first.app.realtime.getUser(idleId), null)
    t.equal(await first.app.realtime.cleanup(30), 0)
    t.equal(await first.app.realtime.cleanup(0), 0, 'active this very millisecond')
    clock += 1
    t.equal(await first.app.realtime.cleanup(0), 1, 'cleanup(0): everything not active now')
    t.equal(await busy.next('disconnect'), 'io server disconnect')
  })

  t.test(`${mode}: shutdown() disconnects this instance's sockets, waits for their cleanup and refuses new ones`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const eve = await registerUser(app, `eve_${mode}`, 'Eve')
    const fay = await registerUser(app, `fay_${mode}`, 'Fay')
    const room = await app.realtime.createRoom('before-shutdown', `shutdown-${mode}`)
    const e = await openClient(t, app, url, eve.token)
    const f = await openClient(t, app, url, fay.token)
    await app.realtime.joinRoom(e.id, room.id)
    await app.realtime.joinRoom(f.id, room.id)
    const seen: string[] = []
    app.realtime.on('disconnect', (user, reason) => { seen.push(`${user.username} (${reason})`) })
    app.realtime.on('room:leave', ({ user, room }) => { seen.push(`${user.username} left ${room.name}`) })

    await app.realtime.shutdown()
    t.same(seen.filter((s) => s.includes('(')).sort(), [`eve_${mode} (server namespace disconnect)`, `fay_${mode} (server namespace disconnect)`], 'resolved after every disconnect was handled')
    t.same(await app.realtime.getConnectedUsers(), [])
    t.same(await app.realtime.getRoomMembers(room.id), [])
    t.equal(await e.next('disconnect'), 'io server disconnect')
    t.equal(await f.next('disconnect'), 'io server disconnect')
    const late = new Client(t, url, eve.token)
    t.same((await late.next('connect_error')).data, { code: 'SERVICE_UNAVAILABLE', message: 'The service is shutting down' })
    t.same((await app.realtime.getStats()).activeConnections, 0)
  })
}

t.test('the connection registry: liveness by instance, throttled activity, kick reasons', async (t) => {
  eachBackend(t, async (t, { stores }) => {
    const [one, two] = await stores(2)
    const alive = new Set(['i1', 'i2'])
    let clock = 1_000_000
    const options = { instances: { isAlive: async (id: string) => alive.has(id) }, now: () => clock, activityResolutionMs: 1_000 }
    const r1 = createConnectionRegistry({ store: one, instanceId: 'i1', ...options })
    const r2 = createConnectionRegistry({ store: two, instanceId: 'i2', ...options })
    await r1.add('s1', { id: 'u1', username: 'ann', displayName: 'Ann' }).written
    await r2.add('s2', { id: 'u2', username: 'ben', displayName: 'Ben' }).written
    await r2.add('s3', { id: 'u2', username: 'ben', displayName: 'Ben' }).written
    t.same((await r1.all()).map((s) => s.socketId).sort(), ['s1', 's2', 's3'])
    t.same((await r1.pick(['s2', 'nope'])).map((s) => s.socketId), ['s2'])
    t.equal(await r1.totalConnections(), 3)

    t.same(await one.hGetAll(realtimeKeys.activity), {}, 'no activity before a first event')
    clock += 500
    await r1.touch('s1')
    t.equal((await r1.get('s1'))!.lastActivity, clock, 'the first event is written')
    t.equal(r1.touch('s1'), undefined, 'within the resolution: not written')
    clock += 600
    await r1.touch('s1')
    t.equal((await r1.get('s1'))!.lastActivity, clock)

    // i2 stops beating: its sockets stop counting at once, and are deleted by the next full read
    alive.delete('i2')
    t.equal(await r1.get('s2'), null)
    t.same((await r1.all()).map((s) => s.socketId), ['s1'])
    t.same(Object.keys(await one.hGetAll(realtimeKeys.sockets)), ['s1'])
    t.same(Object.keys(await one.hGetAll(realtimeKeys.activity)), ['s1'])

    // a damaged entry counts as gone; purgeInstance drops an instance's entries
    await one.hSet(realtimeKeys.sockets, { bad: '{not json' })
    t.same((await r1.all()).map((s) => s.socketId), ['s1'])
    // an entry in the layout before the array (an earlier version's instance on the same Redis)
    await one.hSet(realtimeKeys.sockets, { old: JSON.stringify({ userId: 'u9', username: 'nan', displayName: 'Nan', instanceId: 'i1', connectedAt: 7 }) })
    t.match(await r1.get('old'), { socketId: 'old', userId: 'u9', username: 'nan', displayName: 'Nan', instanceId: 'i1', connectedAt: 7 })
    await one.hDel(realtimeKeys.sockets, 'old')
    alive.add('i2')
    await r2.add('s4', { id: 'u2', username: 'ben', displayName: 'Ben' }).written
    await r1.purgeInstance('i2')
    t.same((await r1.all()).map((s) => s.socketId), ['s1'])

    await r1.markKicked(['s1'], 'banned')
    t.equal(await r2.takeKick('s1'), 'banned', 'read by whichever instance sees the socket go')
    t.equal(await r2.takeKick('s1'), null, 'once')
    t.match(await r1.remove('s1'), { socketId: 's1', userId: 'u1', username: 'ann', instanceId: 'i1' })
    t.equal(await r1.remove('s1'), null)
    t.same(await r1.all(), [])

    // an own socket that is gone without its cleanup (a store outage during its disconnect)
    const connected = new Set(['s5'])
    const r3 = createConnectionRegistry({ store: one, instanceId: 'i3', ...options, isLocal: (id) => connected.has(id) })
    await r3.add('s5', { id: 'u5', username: 'cat', displayName: 'Cat' }).written
    await r3.add('s6', { id: 'u6', username: 'dan', displayName: 'Dan' }).written
    t.same((await r3.all()).map((s) => s.socketId), ['s5'], 'not connected here: not counted')
    t.same(Object.keys(await one.hGetAll(realtimeKeys.sockets)).sort(), ['s5'], 'and dropped')
  })
})
