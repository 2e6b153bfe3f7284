import t from 'tap'
import { createConnectionSlots } from '../../src/public-rooms/slots.js'
import { eachBackend, until } from '../store/fixtures/backends.js'
import { startInstances } from './fixtures/cluster.js'

/**
 * The write-back after the store lost its data: presence and connection slots as each instance
 * holds them, through the lifecycle's onRestore (the heartbeat notices the missing epoch).
 */
eachBackend(t, async (t, { stores }) => {
  const ttlMs = 300

  t.test('presence and slots of two instances are right again after a flush, ghosts left out', async (t) => {
    const cluster = await startInstances(t, await stores(2), ttlMs)
    const [a, b] = cluster.map(({ presence }) => presence)
    const slotsOf = cluster.map(({ store, instanceId, registry }) => {
      const slots = createConnectionSlots({ store, instanceId, max: 2 })
      registry.onRestore(async () => { await slots.restore() })
      return slots
    })
    await a.connect('sa1', 'ann')
    await a.join('sa1', 'room:x')
    await a.join('sa1', 'room:y')
    await b.connect('sb1', 'bob')
    await b.join('sb1', 'room:x')
    await b.connect('sb2', 'ann')
    await b.join('sb2', 'room:x')
    await a.connect('gone', 'gus')
    await a.join('gone', 'room:x')
    await a.leave('sa1', 'room:y')
    await a.disconnect('gone')
    t.ok((await slotsOf[0].acquire('ip1', 'sa1')).ok)
    t.ok((await slotsOf[1].acquire('ip1', 'sb1')).ok)
    t.notOk((await slotsOf[1].acquire('ip1', 'sb2')).ok, 'the cap holds before')
    await slotsOf[0].acquire('ip2', 'gone')
    await slotsOf[0].release('ip2', 'gone')

    const store = cluster[0].store
    const before = { x: await a.members('room:x'), online: (await a.onlineUsers()).sort() }
    const restoresBefore = cluster.map(({ registry }) => registry.restores)
    await store.del(...await store.scan('*'))
    t.equal(await a.count('room:x'), 0, 'the store forgot everything')
    await until(() => cluster.every(({ registry }, i) => registry.restores > restoresBefore[i]), ttlMs * 10, 'both instances noticed')
    await until(async () => (await a.count('room:x')) === 2 && (await slotsOf[0].count('ip1')) === 2, ttlMs * 10, 'write-back done')

    t.same(await a.members('room:x'), before.x, 'room members and their socket counts are back')
    t.same((await b.onlineUsers()).sort(), before.online, 'online users are back, the disconnected one not')
    t.same(await a.scopesOfSocket('sa1'), ['room:x'], 'a left scope stays left')
    t.equal(await a.count('room:y'), 0)
    t.equal(await slotsOf[1].count('ip1'), 2, 'slots are back')
    t.notOk((await slotsOf[0].acquire('ip1', 'third')).ok, 'the per-IP cap holds again')
    t.equal(await slotsOf[0].count('ip2'), 0, 'a released slot is not written back')
  })
})
