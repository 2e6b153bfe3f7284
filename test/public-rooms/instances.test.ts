import { randomUUID } from 'node:crypto'
import t from 'tap'
import { buildTestApp, IP_HASH_SECRET, servicesSkipReason } from '../helper.js'
import { createStore } from '../../src/store/index.js'
import { createInstanceLifecycle } from '../../src/instance/lifecycle.js'
import { createPresence } from '../../src/presence/service.js'
import { createConnectionSlots } from '../../src/services/slots.js'
import { hashIp } from '../../src/net.js'
import { createRoom, createUser, ELSEWHERE, HERE, occupancy, restJoin, restLeave, SeedClient } from './fixtures.js'

/** Several instances on one Redis and one PostgreSQL: only the services mode has them. */
const skip = servicesSkipReason()
if (skip) {
  t.skip(skip, () => {})
} else {
  const INSTANCE_TTL_MS = 1_000
  const cluster = async (t: Parameters<typeof buildTestApp>[0], count: number) => {
    const first = await buildTestApp(t, { mode: 'services', env: { INSTANCE_TTL_MS: String(INSTANCE_TTL_MS) }, presenceSweepMs: 100 })
    const apps = [first]
    for (let i = 1; i < count; i++) {
      apps.push(await buildTestApp(t, {
        mode: 'services', env: { INSTANCE_TTL_MS: String(INSTANCE_TTL_MS) }, presenceSweepMs: 100, shared: { prefix: first.prefix }
      }))
    }
    return apps
  }

  t.test('the IP limit holds across two instances', async (t) => {
    const [a, b] = await cluster(t, 2)
    const room = await createRoom(a.app)
    const ann = await createUser(a.app, 'Ann')

    // One after the other: A, B, A.
    const first = new SeedClient(t, a.url, room.id)
    t.equal(await first.joinOrRefusal(ann), 'joined')
    const second = new SeedClient(t, b.url, room.id)
    t.equal(await second.joinOrRefusal(ann), 'joined')
    const third = new SeedClient(t, a.url, room.id)
    t.equal(await third.joinOrRefusal(ann), 'TOO_MANY_CONNECTIONS', 'the third, on the first instance, is refused')
    t.equal(await a.app.getConnectionCount(HERE), 2)
    t.equal(await b.app.getConnectionCount(HERE), 2, 'both instances see the same count')

    // Racing: three connections at once from one IP, spread over both instances.
    const bob = await createUser(a.app, 'Bob', ELSEWHERE)
    const racing = [a, b, b].map((node) => new SeedClient(t, node.url, room.id, { ip: ELSEWHERE }))
    const outcomes = await Promise.all(racing.map(async (c) => await c.joinOrRefusal(bob)))
    t.same(outcomes.sort(), ['TOO_MANY_CONNECTIONS', 'joined', 'joined'], 'exactly two of three admitted')

    // A slot freed on one instance is taken on the other.
    const leftOnA = first.next('user-left', (e) => e.userId === bob.userId)
    for (const c of racing) c.socket.disconnect()
    await leftOnA
    const again = new SeedClient(t, b.url, room.id, { ip: ELSEWHERE })
    t.equal(await again.joinOrRefusal(bob), 'joined')
    t.equal(await a.app.getConnectionCount(ELSEWHERE), 1)
  })

  t.test('participants on two instances hear each other; occupancy and REST are shared', async (t) => {
    const [a, b] = await cluster(t, 2)
    const room = await createRoom(a.app)
    const ann = await createUser(a.app, 'Ann')
    const obi = await createUser(b.app, 'Obi', ELSEWHERE)
    const onA = new SeedClient(t, a.url, room.id)
    const onB = new SeedClient(t, b.url, room.id, { ip: ELSEWHERE })
    t.equal((await onA.join(ann)).ok, true)
    const heardOnA = onA.next('user-joined', (e) => e.userId === obi.userId)
    t.equal((await onB.join(obi)).ok, true)
    t.match(await heardOnA, { userName: 'Obi', currentOccupancy: 2 }, 'user-joined crosses instances')
    t.equal(await occupancy(b.app, room.id), 2)

    // A second tab of Ann on the other instance counts once.
    const annOnB = new SeedClient(t, b.url, room.id)
    t.match(await annOnB.join(ann), { ok: true, currentOccupancy: 2 })

    // REST leave on B for a user whose sockets are on A and B.
    const leftOnB = onB.next('user-left')
    t.equal((await restLeave(b.app, room.id, ann.userId)).statusCode, 200)
    t.same(await leftOnB, { userId: ann.userId, currentOccupancy: 1 })
    t.equal(await occupancy(a.app, room.id), 1)

    // broadcastToPublicRoom from either instance reaches both.
    const onBoth = [onB.next('notice')]
    const back = onB.next('user-joined', (e) => e.userId === ann.userId)
    t.equal((await onA.join(ann)).ok, true)
    await back
    onBoth.push(onA.next('notice'))
    b.app.broadcastToPublicRoom(room.id, 'notice', { from: 'b' })
    t.same(await Promise.all(onBoth), [{ from: 'b' }, { from: 'b' }])
    t.equal((await restJoin(a.app, room.id, obi.userId, ELSEWHERE)).statusCode, 200, 'REST on A sees B\'s data')
  })

  t.test('the users of a crashed instance leave their rooms; its slots and seats are freed', async (t) => {
    const [survivor] = await cluster(t, 1)
    const room = await createRoom(survivor.app, { capacity: 2 })
    const cy = await createUser(survivor.app, 'Cy')
    const obi = await createUser(survivor.app, 'Obi', ELSEWHERE)
    const ann = await createUser(survivor.app, 'Ann')
    const observer = new SeedClient(t, survivor.url, room.id, { ip: ELSEWHERE })
    t.equal((await observer.join(obi)).ok, true)

    // The instance that will crash: the shared services of one, on the same Redis keyspace,
    // holding what a socket of Ann's would (presence in the room, a seat, a connection slot).
    const store = await createStore({ redisUrl: process.env.REDIS_URL, prefix: survivor.prefix })
    t.teardown(() => store.close())
    const instanceId = `crashing-${randomUUID().slice(0, 8)}`
    const registry = createInstanceLifecycle({ store, instanceId, ttlMs: INSTANCE_TTL_MS })
    await registry.start()
    t.teardown(() => registry.shutdown())
    const presence = createPresence({ store, lifecycle: registry })
    const slots = createConnectionSlots({ store, instanceId, max: 2 })
    t.equal((await restJoin(survivor.app, room.id, ann.userId)).statusCode, 200)
    t.ok((await slots.acquire(hashIp(IP_HASH_SECRET, HERE), 'ghost-socket')).ok)
    await presence.connect('ghost-socket', ann.userId)
    t.match(await presence.join('ghost-socket', `public:${room.id}`), { first: true, count: 2 })
    t.equal(await occupancy(survivor.app, room.id), 2)
    t.equal(await survivor.app.getConnectionCount(HERE), 1)
    t.equal((await restJoin(survivor.app, room.id, cy.userId)).statusCode, 409, 'both seats are taken')

    // The crash: no more heartbeats, no cleanup.
    const left = observer.next('user-left', () => true, { ms: INSTANCE_TTL_MS * 5 })
    registry.stopHeartbeat()
    t.same(await left, { userId: ann.userId, currentOccupancy: 1 }, 'the survivor\'s sweep tells the room')
    t.equal(await occupancy(survivor.app, room.id), 1)
    t.equal(await survivor.app.getConnectionCount(HERE), 0, 'the dead instance\'s slot no longer counts')
    t.equal((await restJoin(survivor.app, room.id, cy.userId)).statusCode, 200, 'Ann\'s seat was given back')
  })
}
