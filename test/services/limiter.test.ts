import { Redis } from 'ioredis'
import t from 'tap'
import { createLimiter } from '../../src/services/limiter.js'
import { createMemoryStore } from '../../src/store/memory.js'
import { createRedisStore } from '../../src/store/redis.js'
import { eachBackend } from '../store/fixtures/backends.js'

eachBackend(t, async (t, { stores, prefix }) => {
  const [storeA, storeB] = await stores(2)

  t.test('points are shared across instances; exhausted → ok: false with retryAfterMs', async (t) => {
    const a = createLimiter({ store: storeA, name: 'chat', points: 3, durationMs: 60_000 })
    const b = createLimiter({ store: storeB, name: 'chat', points: 3, durationMs: 60_000 })
    t.same(await a.consume('u1'), { ok: true, retryAfterMs: 0 })
    t.same(await b.consume('u1'), { ok: true, retryAfterMs: 0 })
    t.same(await a.consume('u1'), { ok: true, retryAfterMs: 0 })
    const refused = await b.consume('u1')
    t.equal(refused.ok, false, 'the fourth event in the window is refused')
    t.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 60_000, `retry after ${refused.retryAfterMs} ms`)
    t.same(await a.consume('u2'), { ok: true, retryAfterMs: 0 }, 'keys are independent')
    const other = createLimiter({ store: storeA, name: 'password', points: 1, durationMs: 60_000 })
    t.same(await other.consume('u1'), { ok: true, retryAfterMs: 0 }, 'names are independent')
    t.equal((await other.consume('u1', 1)).ok, false)

    await b.reset('u1')
    t.same(await a.consume('u1'), { ok: true, retryAfterMs: 0 }, 'reset clears the count')
    if (storeA.kind === 'redis') {
      t.ok((await storeA.scan('limit:chat:*')).length > 0, `keys live under the store prefix ${prefix}`)
    }
  })

  t.test('sub-second windows round up to one second', async (t) => {
    const limiter = createLimiter({ store: storeA, name: 'short', points: 1, durationMs: 200 })
    t.equal(limiter.durationMs, 1000)
    await limiter.consume('k')
    const refused = await limiter.consume('k')
    t.ok(!refused.ok && refused.retryAfterMs <= 1000)
  })
})

t.test('a store failure rejects instead of allowing the event', async (t) => {
  // A client that never connected: every command fails, as when Redis is down.
  const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  const store = createRedisStore({ redis, prefix: 'down:', ownsClient: true })
  t.teardown(async () => { await store.close() })
  const limiter = createLimiter({ store, name: 'chat', points: 3, durationMs: 60_000 })
  await t.rejects(limiter.consume('u1'), Error)
})

t.test('points must be a positive integer', async (t) => {
  const store = createMemoryStore()
  t.teardown(async () => { await store.close() })
  t.throws(() => createLimiter({ store, name: 'x', points: 0, durationMs: 1000 }), RangeError)
})
