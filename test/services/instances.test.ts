import t from 'tap'
import { createInstanceRegistry } from '../../src/services/instances.js'
import { createMemoryStore } from '../../src/store/memory.js'
import { eachBackend, until } from '../store/fixtures/backends.js'

eachBackend(t, async (t, { stores }) => {
  const [a, b] = await stores(2)
  const ttlMs = 150

  t.test('heartbeat keeps an instance alive; a silent one is dead after its ttl', async (t) => {
    const one = createInstanceRegistry({ store: a, instanceId: 'one', ttlMs })
    const two = createInstanceRegistry({ store: b, instanceId: 'two', ttlMs })
    t.teardown(() => { one.stopHeartbeat(); two.stopHeartbeat() })
    await one.start()
    await two.start()
    t.equal(one.heartbeatMs, 50, 'heartbeat defaults to a third of the ttl')
    t.same((await a.sMembers('instances')).sort(), ['one', 'two'])
    t.equal(await two.isAlive('one'), true)
    t.same(await two.deadInstances(), [])

    // Several heartbeats pass: the key is refreshed, never lapses.
    const ttlLeft = await a.pttl('instance:one:alive')
    t.ok(ttlLeft > 0 && ttlLeft <= ttlMs, `alive key has a ttl (${ttlLeft} ms)`)
    await new Promise((resolve) => setTimeout(resolve, ttlMs * 2))
    t.equal(await two.isAlive('one'), true, 'still alive after two ttls')

    one.stopHeartbeat()
    const waited = await until(async () => !(await two.isAlive('one')), ttlMs * 3, 'liveness expiry')
    t.ok(waited <= ttlMs + 50, `expired within the ttl (${waited} ms)`)
    t.same(await two.deadInstances(), ['one'])
    t.same(await one.deadInstances(), ['one'], 'every instance sees the same')

    await one.stop()
    await two.stop()
    t.same(await a.scan('instance*'), [], 'stop removes the key and the membership')
  })
})

t.test('options are checked', async (t) => {
  const store = createMemoryStore()
  t.teardown(async () => { await store.close() })
  t.throws(() => createInstanceRegistry({ store, instanceId: 'a|b', ttlMs: 100 }), /invalid instance id/)
  t.throws(() => createInstanceRegistry({ store, instanceId: 'a', ttlMs: 100, heartbeatMs: 100 }), /shorter than the ttl/)
})
