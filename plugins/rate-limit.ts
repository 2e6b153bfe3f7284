import fp from 'fastify-plugin'
import fastifyRateLimit from '@fastify/rate-limit'
import { createLimiter, type Limiter } from '../src/services/limiter.js'
import { createIpHasher } from '../src/net.js'
import { restRateLimitNamespace } from '../src/store/keys.js'
import { insuredRedisStore } from '../src/services/rest-limit-store.js'

export interface Limiters {
  /** A named limit shared by every instance through the store (Redis or memory). */
  create (name: string, points: number, durationMs: number): Limiter
}

declare module 'fastify' {
  interface FastifyInstance { limiters: Limiters }
}

/**
 * REST limits through @fastify/rate-limit (on Redis when configured, insured in process) and socket event limits
 * through rate-limiter-flexible on the same store, so both hold across instances.
 */
export default fp(async (app) => {
  const { store } = app
  const config = app.realtimeConfig
  const hashIp = createIpHasher(config.ipHashSecret)
  let warnedAt = 0
  const warnFallback = (err: Error): void => {
    if (Date.now() - warnedAt < 10_000) return
    warnedAt = Date.now()
    app.log.warn({ err: { message: err.message } }, 'REST rate limits: Redis failed, counting in this process')
  }
  await app.register(fastifyRateLimit, {
    global: true,
    max: config.restRateLimitMax,
    timeWindow: 60_000,
    // Keyed by the HMAC of the client IP: IPs are never stored raw, Redis keys included.
    keyGenerator: (request) => hashIp(request.ip),
    // While Redis fails, each instance keeps counting on its own (auth routes stay limited).
    ...(store.redis ? { store: insuredRedisStore(store.redis, store.prefix + restRateLimitNamespace, warnFallback) } : {}),
    errorResponseBuilder: (_request, context) => ({
      statusCode: context.statusCode,
      code: 'RATE_LIMITED',
      message: `Rate limit exceeded, retry in ${context.after}`
    })
  })
  const created = new Map<string, Limiter>()
  app.decorate('limiters', {
    create (name, points, durationMs) {
      const key = `${name}:${points}:${durationMs}`
      let limiter = created.get(key)
      if (!limiter) {
        limiter = createLimiter({ store, name, points, durationMs })
        created.set(key, limiter)
      }
      return limiter
    }
  })
}, { name: 'rate-limit', dependencies: ['config', 'store'] })
