import t from 'tap'
import { buildTestApp, modes, servicesSkipReason } from '../helper.js'
import { createStore } from '../../src/store/index.js'
import { createInstanceLifecycle } from '../../src/instance/lifecycle.js'
import { createPresence } from '../../src/presence/service.js'
import { createWatchers } from '../../src/presence/watchers.js'
import { chat, ChatClient, coreEvent, crossReady, flush, newUser } from '../chat/fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

for (const mode of modes()) {
  t.test(`${mode}: user:status goes to the sockets watching the user, and to no one else`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { PRESENCE_WATCHLIST_MAX: '3' } })
    const [watcher, bystander, star, other] = [
      await newUser(app, 'Watcher'), await newUser(app, 'Bystander'), await newUser(app, 'Star'), await newUser(app, 'Other')
    ]
    const w = await ChatClient.open(t, url, watcher.token)
    // Registered (and announced to its watchers: none yet) before anyone watches it.
    const bRegistered = coreEvent(app, 'connection', (e) => e.user.id === bystander.user.id)
    const b = await ChatClient.open(t, url, bystander.token)
    await bRegistered
    t.same(await w.ack('presence:subscribe', { userIds: [star.user.id, bystander.user.id, star.user.id] }), {
      ok: true, statuses: [{ userId: star.user.id, status: 'offline' }, { userId: bystander.user.id, status: 'online' }]
    }, 'statuses now, each user once')

    const s = await ChatClient.open(t, url, star.token)
    t.same(await w.next('user:status'), { userId: star.user.id, status: 'online' })
    const tab = await ChatClient.open(t, url, star.token)
    tab.close()
    s.close()
    t.same(await w.next('user:status'), { userId: star.user.id, status: 'offline' }, 'offline once the last socket went')
    await flush(w)
    t.same(w.all('user:status'), [{ userId: star.user.id, status: 'online' }, { userId: star.user.id, status: 'offline' }], 'a second tab changes nothing')
    const o = await ChatClient.open(t, url, other.token)
    const oId = o.id
    const oGone = coreEvent(app, 'disconnect', (e) => e.socketId === oId)
    o.close()
    await oGone
    await flush(b)
    await flush(w)
    t.equal(b.count('user:status'), 0, 'a socket that watches no one gets no user:status')
    t.notOk(w.all('user:status').some((d) => d.userId === other.user.id), 'nor about a user it does not watch')

    // The cap: nothing changes when a subscribe would go over it.
    const refused = await w.ack('presence:subscribe', { userIds: [other.user.id, watcher.user.id] })
    t.equal(refused.ok, false)
    t.equal(refused.error.code, 'INVALID_REQUEST')
    t.match(refused.error.message, /at most 3 users/)
    t.same((await chat(app).watchers.watchedBy(w.id)).sort(), [star.user.id, bystander.user.id].sort(), 'the watchlist is as it was')
    t.equal((await w.ack('presence:subscribe', { userIds: [other.user.id] })).ok, true, 'up to the cap is fine')

    // Unsubscribe stops them.
    t.same(await w.ack('presence:unsubscribe', { userIds: [star.user.id] }), { ok: true })
    const again = await ChatClient.open(t, url, star.token)
    const mark = w.mark()
    const o2 = await ChatClient.open(t, url, other.token)
    t.same(await w.next('user:status', undefined, mark), { userId: other.user.id, status: 'online' })
    t.notOk(w.received.slice(mark).some((r) => r.event === 'user:status' && r.data.userId === star.user.id), 'no longer watched')
    again.close()
    o2.close()

    // A watcher that goes is forgotten.
    t.same(await chat(app).watchers.watchersOf(other.user.id), [w.id])
    const id = w.id
    const wGone = coreEvent(app, 'disconnect', (e) => e.socketId === id)
    w.close()
    await wGone
    t.same(await chat(app).watchers.watchersOf(other.user.id), [], 'a watcher socket that goes is forgotten')
    t.same(await chat(app).watchers.watchedBy(id), [], 'with its watchlist')
  })
}

if (modes().includes('services')) {
  t.test('services: a watcher sees online and offline across instances, and after the watched user\'s instance dies', async (t) => {
    const ttlMs = 300
    const one = await buildTestApp(t, { mode: 'services', env: { INSTANCE_TTL_MS: String(ttlMs) }, presenceSweepMs: 50 })
    const two = await buildTestApp(t, { mode: 'services', shared: { prefix: one.prefix }, env: { INSTANCE_TTL_MS: String(ttlMs) }, presenceSweepMs: 50 })
    const [watcher, star, ghost] = [await newUser(one.app, 'Watcher'), await newUser(one.app, 'Star'), await newUser(one.app, 'Ghost')]
    const w = await ChatClient.open(t, one.url, watcher.token)
    await crossReady(two.app, w)
    await w.ack('presence:subscribe', { userIds: [star.user.id, ghost.user.id] })

    const s = await ChatClient.open(t, two.url, star.token)
    t.same(await w.next('user:status'), { userId: star.user.id, status: 'online' }, 'online, from the other instance')
    s.close()
    t.same(await w.next('user:status'), { userId: star.user.id, status: 'offline' }, 'offline, from the other instance')

    // A third instance that dies (its heartbeat stops, as after kill -9), holding the ghost's
    // socket and a watcher socket of its own.
    const store = await createStore({ redisUrl: process.env.REDIS_URL, prefix: one.prefix })
    t.teardown(() => store.close())
    const doomed = createInstanceLifecycle({ store, instanceId: 'doomed-instance', ttlMs })
    await doomed.start()
    const watchers = createWatchers({ store, lifecycle: doomed, max: 10 })
    const presence = createPresence({ store, lifecycle: doomed })
    await presence.connect('ghost-socket', ghost.user.id)
    await watchers.subscribe('doomed-watcher', [star.user.id])
    t.same(await w.ack('presence:subscribe', { userIds: [ghost.user.id] }), { ok: true, statuses: [{ userId: ghost.user.id, status: 'online' }] })
    t.same((await chat(one.app).watchers.watchersOf(star.user.id)).sort(), [w.id, 'doomed-watcher'].sort())

    const mark = w.mark()
    doomed.stopHeartbeat()
    t.same(await w.next('user:status', undefined, mark), { userId: ghost.user.id, status: 'offline' }, 'the ghost, in no room, goes offline for its watcher')
    // A survivor forgets the dead instance's watchers before it tells its users' watchers.
    t.same(await chat(one.app).watchers.watchersOf(star.user.id), [w.id], "the dead instance's watcher is forgotten")
    t.same(await chat(two.app).watchers.watchedBy('doomed-watcher'), [])
  })
}
