import t from 'tap'
import { createConnectionSlots } from '../../src/services/slots.js'
import { createMemoryStore } from '../../src/store/memory.js'
import { eachBackend, until } from '../store/fixtures/backends.js'
import { startInstances } from '../instance/fixtures/cluster.js'

const IP = 'a1b2c3'
const TTL_MS = 200

eachBackend(t, async (t, { stores }) => {
  t.test('at most two connections per IP hash across two instances', async (t) => {
    const [one, two] = await startInstances(t, await stores(2), TTL_MS)
    const a = createConnectionSlots({ store: one.store, instanceId: one.instanceId, max: 2 })
    const b = createConnectionSlots({ store: two.store, instanceId: two.instanceId, max: 2 })

    const sockets: Array<[typeof a, string]> = [[a, 'sa1'], [b, 'sb1'], [a, 'sa2']]
    const results = await Promise.all(sockets.map(async ([slots, socketId]) => await slots.acquire(IP, socketId)))
    t.equal(results.filter(({ ok }) => ok).length, 2, 'exactly two of three racing acquisitions admitted')
    t.equal(results.find(({ ok }) => !ok)?.count, 2, 'the refused one sees the two')
    t.equal(await b.count(IP), 2)
    for (const [slots, socketId] of sockets) await slots.release(IP, socketId)
    t.equal(await a.count(IP), 0, 'all released')

    // Now in a known order: a holds sa1, b holds sb1.
    t.same(await a.acquire(IP, 'sa1'), { ok: true, count: 1 })
    t.same(await b.acquire(IP, 'sb1'), { ok: true, count: 2 })
    t.same(await a.acquire(IP, 'sa2'), { ok: false, count: 2 })
    t.same(await a.acquire(IP, 'sa1'), { ok: true, count: 2 }, 'acquiring again is idempotent')
    t.same(await a.acquire('other', 'sx'), { ok: true, count: 1 }, 'another IP has its own slots')

    t.equal(await a.release(IP, 'sa1'), 1, 'release frees the slot')
    t.equal(await a.release(IP, 'sa1'), 1, 'releasing twice changes nothing')
    t.equal(await a.release(IP, 'never-admitted'), 1)
    t.same(await a.acquire(IP, 'sa2'), { ok: true, count: 2 }, 'the freed slot is taken')
    t.same(await b.acquire(IP, 'sb2'), { ok: false, count: 2 })

    // Instance two dies without cleaning up: its slots go with its liveness key.
    two.registry.stopHeartbeat()
    await until(async () => !(await one.registry.isAlive(two.instanceId)), TTL_MS * 3, 'liveness expiry')
    t.equal(await a.count(IP), 1, 'the dead instance\'s slot is dropped')
    t.same(await a.acquire(IP, 'sa3'), { ok: true, count: 2 })

    t.equal(await a.releaseInstance(), 3, 'graceful shutdown frees this instance\'s slots')
    t.equal(await a.count(IP), 0)
    t.equal(await a.count('other'), 0)
    t.same(await one.store.scan('slots:*'), [])
    t.same(await one.store.scan('instance:*:slots'), [])
  })

  t.test('entries older than staleMs are dropped', async (t) => {
    const [one] = await startInstances(t, await stores(1), 10_000)
    const staleMs = 1000
    const earlier = createConnectionSlots({ store: one.store, instanceId: one.instanceId, max: 2, staleMs, now: () => Date.now() - staleMs - 1 })
    const slots = createConnectionSlots({ store: one.store, instanceId: one.instanceId, max: 2, staleMs })
    t.same(await earlier.acquire(IP, 'old1'), { ok: true, count: 1 })
    t.same(await earlier.acquire(IP, 'old2'), { ok: true, count: 2 })
    t.equal(await slots.count(IP), 0, 'both entries are stale now')
    t.same(await slots.acquire(IP, 'new1'), { ok: true, count: 1 })
    t.same(await one.store.sMembers(`instance:${one.instanceId}:slots`), [`${IP}|new1`], 'stale entries leave the instance set too')
    t.ok(await one.store.pttl(`slots:${IP}`) <= staleMs, 'an abandoned IP key expires by itself')
    await slots.releaseInstance()
  })
})

t.test('an IP hash cannot contain the separator', async (t) => {
  const store = createMemoryStore()
  t.teardown(async () => { await store.close() })
  const slots = createConnectionSlots({ store, instanceId: 'i', max: 2 })
  await t.rejects(slots.acquire('a|b', 's'), /invalid ip hash/)
})
