import type { RedisClient } from '../store/cluster.js'
import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'

type Counted = (error: Error | null, result?: { current: number, ttl: number }) => void

/** One fixed window per key: the count and its TTL in ms (as @fastify/rate-limit's own Redis store). */
const WINDOW_LUA = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {current, redis.call('PTTL', KEYS[1])}`

/** Windows of this process; dropped whole when full, so it never holds more than `max` keys. */
class LocalWindows {
  private readonly windows = new Map<string, { count: number, resetAt: number }>()
  constructor (private readonly max = 10_000) {}

  incr (key: string, timeWindow: number): { current: number, ttl: number } {
    const now = Date.now()
    let window = this.windows.get(key)
    if (!window || window.resetAt <= now) {
      if (this.windows.size >= this.max) this.windows.clear()
      window = { count: 0, resetAt: now + timeWindow }
      this.windows.set(key, window)
    }
    window.count++
    return { current: window.count, ttl: window.resetAt - now }
  }
}

/**
 * REST limits on Redis with an in-process insurance (as rate-limiter-flexible's
 * `insuranceLimiter`): while Redis fails, each instance counts on its own with the same limits,
 * so login and register stay limited instead of failing open.
 */
export function insuredRedisStore (redis: RedisClient, nameSpace: string, onFallback: (err: Error) => void): FastifyRateLimitStoreCtor {
  class InsuredStore implements FastifyRateLimitStore {
    constructor (_options: FastifyRateLimitOptions, private readonly prefix = nameSpace, private readonly local = new LocalWindows()) {}

    incr (key: string, callback: Counted, timeWindow: number): void {
      redis.eval(WINDOW_LUA, 1, this.prefix + key, timeWindow).then((result) => {
        const [current, ttl] = result as [number, number]
        callback(null, { current, ttl })
      }, (err: Error) => {
        onFallback(err)
        callback(null, this.local.incr(key, timeWindow))
      })
    }

    child (routeOptions: { method?: string | string[], url?: string, routeInfo?: { method: string, url: string } }): FastifyRateLimitStore {
      const route = routeOptions.routeInfo ?? { method: String(routeOptions.method), url: String(routeOptions.url) }
      return new InsuredStore({}, `${this.prefix}${route.method}${route.url}-`, new LocalWindows())
    }
  }
  return InsuredStore
}
