import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createInstanceLifecycle } from '../../src/instance/lifecycle.js'
import { createMemoryStore } from '../../src/store/memory.js'
import { eachBackend, until } from '../store/fixtures/backends.js'

// Long enough that no sweep runs by itself: the test looks at detection alone.
const BY_HAND_MS = 3_600_000

eachBackend(t, async (t, { stores }) => {
  const [a, b, c] = await stores(3)
  const ttlMs = 150

  t.test('heartbeat keeps an instance alive; a silent one is dead after its ttl', async (t) => {
    const one = createInstanceLifecycle({ store: a, instanceId: 'one', ttlMs, sweepIntervalMs: BY_HAND_MS })
    const two = createInstanceLifecycle({ store: b, instanceId: 'two', ttlMs, sweepIntervalMs: BY_HAND_MS })
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

    await one.shutdown()
    await two.shutdown()
    t.same(await a.scan('instance*'), [], 'shutdown removes the key and the membership')
  })

  t.test('a dead instance is handled by exactly one of two running survivors', async (t) => {
    const id = (name: string) => `${name}-${t.name.length}-${Math.random().toString(36).slice(2, 8)}`
    const [doomed, one, two] = [a, b, c].map((store, i) => createInstanceLifecycle({ store, instanceId: id(['doomed', 'one', 'two'][i]), ttlMs, sweepIntervalMs: 20 }))
    t.teardown(async () => { await Promise.all([one, two].map(async (x) => { await x.shutdown() })) })
    const calls: Array<[string, string]> = []
    for (const survivor of [one, two]) {
      // Slow handlers: the other survivor sweeps several times while the first still cleans up.
      survivor.onInstanceDead(async (deadId) => { calls.push([survivor.instanceId, deadId]); await sleep(60) })
      survivor.onInstanceDead(async (deadId) => { calls.push([`${survivor.instanceId}/second`, deadId]) })
    }
    await Promise.all([doomed, one, two].map(async (x) => { await x.start() }))
    doomed.stopHeartbeat()
    await until(() => calls.length === 2, ttlMs * 4, 'dead instance handled')
    await sleep(ttlMs)
    t.equal(calls.length, 2, 'one survivor ran both handlers, once')
    t.equal(calls[1][0], `${calls[0][0]}/second`, 'the same survivor ran the second handler')
    t.same(calls.map(([, deadId]) => deadId), [doomed.instanceId, doomed.instanceId])
    t.notOk(await a.sIsMember('instances', doomed.instanceId), 'the dead instance left the registry')
    t.same(await a.hGetAll('instances:claims'), {}, 'no claim is left behind')
  })

  t.test('a failed cleanup stays claimed; a claimant that dies too hands the claim on', async (t) => {
    const [doomed, first, second] = [a, b, c].map((store, i) => createInstanceLifecycle({ store, instanceId: `retry-${i}-${Math.random().toString(36).slice(2, 8)}`, ttlMs, sweepIntervalMs: BY_HAND_MS }))
    t.teardown(async () => { await second.shutdown() })
    await Promise.all([doomed, first, second].map(async (x) => { await x.start() }))
    let failures = 1
    first.onInstanceDead(async () => { if (failures-- > 0) throw new Error('store hiccup') })
    const handledBySecond: string[] = []
    second.onInstanceDead(async (deadId) => { handledBySecond.push(deadId) })
    doomed.stopHeartbeat()
    await until(async () => !(await a.exists(`instance:${doomed.instanceId}:alive`)), ttlMs * 3, 'liveness expiry')

    t.same(await first.sweep(), [doomed.instanceId], 'claimed; its handler failed')
    t.same(await second.sweep(), [], 'a live claimant keeps its claim')
    t.ok(await a.sIsMember('instances', doomed.instanceId), 'still registered: the cleanup is not done')

    // The claimant dies before retrying: the claim passes on.
    first.stopHeartbeat()
    await until(async () => !(await first.isAlive(first.instanceId)), ttlMs * 3, 'claimant expiry')
    const handled = await second.sweep()
    t.same(handled.sort(), [doomed.instanceId, first.instanceId].sort(), 'the survivor took over both')
    t.same(handledBySecond.sort(), handled)
    t.same(await second.deadInstances(), [])
  })

  t.test('shutdown runs its handlers last subscribed first; a failure keeps the instance registered', async (t) => {
    const lifecycle = createInstanceLifecycle({ store: a, instanceId: `down-${Math.random().toString(36).slice(2, 8)}`, ttlMs, sweepIntervalMs: BY_HAND_MS, onError: () => {} })
    await lifecycle.start()
    const order: string[] = []
    lifecycle.onShutdown(async () => { order.push('presence') })
    lifecycle.onShutdown(async () => { order.push('chat'); throw new Error('chat failed') })
    const off = lifecycle.onShutdown(async () => { order.push('unsubscribed') })
    off()
    await lifecycle.shutdown()
    t.same(order, ['chat', 'presence'])
    t.ok(await a.sIsMember('instances', lifecycle.instanceId), 'left for the survivors to sweep')
    await a.sRem('instances', lifecycle.instanceId)
  })

  t.test('a store that lost its data (flushed) makes every instance write back, until its handlers succeed', async (t) => {
    const restored: string[] = []
    const started = await Promise.all(['r1', 'r2'].map(async (instanceId, i) => {
      const lifecycle = createInstanceLifecycle({ store: [a, b][i], instanceId, ttlMs, sweepIntervalMs: BY_HAND_MS, onError: () => {} })
      let failOnce = instanceId === 'r2'
      lifecycle.onRestore(async () => {
        if (failOnce) { failOnce = false; throw new Error('store still busy') }
        restored.push(instanceId)
      })
      await lifecycle.start()
      t.teardown(() => lifecycle.shutdown())
      return lifecycle
    }))
    await sleep(ttlMs)
    t.same(restored, [], 'no write-back while the store keeps its data')
    const everything = await a.scan('*')
    await a.del(...everything)
    await until(() => restored.length === 2, ttlMs * 20, 'write-back on both instances')
    t.same(restored.sort(), ['r1', 'r2'], 'each instance wrote back once its handlers succeeded')
    t.ok(started[1].restores >= 2, 'the failed write-back was tried again on a later beat')
    t.ok(await a.exists('instance:r1:alive'), 'liveness is back')
  })

  t.test('a new server behind the same address (failover: run id changed) makes the instance write back', async (t) => {
    let serverId = 'primary'
    const failingOver = { ...a, serverId: async () => serverId }
    const lifecycle = createInstanceLifecycle({ store: failingOver, instanceId: 'fo', ttlMs, sweepIntervalMs: BY_HAND_MS })
    let restored = 0
    lifecycle.onRestore(async () => { restored++ })
    await lifecycle.start()
    t.teardown(() => lifecycle.shutdown())
    await lifecycle.beat()
    t.equal(restored, 0)
    serverId = 'replica'
    await until(() => restored === 1, ttlMs * 20, 'write-back after the failover')
    t.pass('the replica got this instance\'s state')
  })
})

t.test('options are checked', async (t) => {
  const store = createMemoryStore()
  t.teardown(async () => { await store.close() })
  t.throws(() => createInstanceLifecycle({ store, instanceId: 'a|b', ttlMs: 100 }), /invalid instance id/)
  t.throws(() => createInstanceLifecycle({ store, instanceId: 'a', ttlMs: 100, heartbeatMs: 100 }), /shorter than the ttl/)
})
