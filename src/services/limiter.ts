import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { limiterKeyPrefix } from '../store/keys.js'
import type { Store } from '../store/types.js'

export interface LimiterOptions {
  store: Store
  /** Names the limit in keys: `limit:{name}:{key}`. */
  name: string
  /** Events allowed per window. */
  points: number
  /** The window; rate-limiter-flexible counts whole seconds, so it is rounded up to one. */
  durationMs: number
}

// One in-process limiter per store, name and window, so that (as with Redis) two limiters
// built with the same name share their counts.
const memoryLimiters = new WeakMap<Store, Map<string, RateLimiterMemory>>()

function memoryLimiter (store: Store, keyPrefix: string, points: number, duration: number): RateLimiterMemory {
  let byName = memoryLimiters.get(store)
  if (byName === undefined) {
    byName = new Map()
    memoryLimiters.set(store, byName)
  }
  const id = `${keyPrefix}|${points}|${duration}`
  let limiter = byName.get(id)
  if (limiter === undefined) {
    limiter = new RateLimiterMemory({ keyPrefix, points, duration })
    byName.set(id, limiter)
  }
  return limiter
}

export interface ConsumeResult {
  ok: boolean
  /** When ok is false: how long until the window resets. */
  retryAfterMs: number
}

/**
 * A fixed-window event limit shared by all instances when the store is Redis (per process
 * otherwise). A refusal resolves with ok: false; a store failure rejects, so a Redis outage
 * is never mistaken for permission.
 */
export function createLimiter (options: LimiterOptions) {
  const { store, name, points } = options
  if (!Number.isInteger(points) || points < 1) throw new RangeError(`invalid points ${points}`)
  const duration = Math.max(1, Math.ceil(options.durationMs / 1000))
  const keyPrefix = store.prefix + limiterKeyPrefix(name)

  const limiter: RateLimiterAbstract = store.redis === null
    ? memoryLimiter(store, keyPrefix, points, duration)
    : new RateLimiterRedis({
      storeClient: store.redis,
      keyPrefix,
      points,
      duration,
      // Refuse at once while disconnected rather than wait for a command to time out.
      rejectIfRedisNotReady: true
    })

  return {
    name,
    points,
    durationMs: duration * 1000,

    async consume (key: string, cost = 1): Promise<ConsumeResult> {
      try {
        await limiter.consume(key, cost)
        return { ok: true, retryAfterMs: 0 }
      } catch (err) {
        // rate-limiter-flexible rejects with a RateLimiterRes for a refusal, an Error otherwise.
        if (err instanceof RateLimiterRes) return { ok: false, retryAfterMs: Math.max(0, err.msBeforeNext) }
        throw err
      }
    },

    async reset (key: string): Promise<void> {
      await limiter.delete(key)
    }
  }
}

export type Limiter = ReturnType<typeof createLimiter>
