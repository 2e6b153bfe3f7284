import fp from 'fastify-plugin'
import fastifyRateLimit from '@fastify/rate-limit'
import { createLimiter, type Limiter } from '../src/services/limiter.js'
import { createIpHasher } from '../src/net.js'
import { restRateLimitNamespace } from '../src/store/keys.js'

export interface Limiters {
  /** A named limit shared by every instance through the store (Redis or memory). */
  create (name: string, points: number, durationMs: number): Limiter
}

declare module 'fastify' {
  interface FastifyInstance { limiters: Limiters }
}

/**
 * REST limits through @fastify/rate-limit (on Redis when configured) and socket event limits
 * through rate-limiter-flexible on the same store, so both hold across instances.
 */
export default fp(async (app) => {
  const { store } = app
  const config = app.realtimeConfig
  const hashIp = createIpHasher(config.ipHashSecret)
  await app.register(fastifyRateLimit, {
    global: true,
    max: config.restRateLimitMax,
    timeWindow: 60_000,
    // Keyed by the HMAC of the client IP: IPs are never stored raw, Redis keys included.
    keyGenerator: (request) => hashIp(request.ip),
    // skipOnError: while Redis is down, REST (/health, /ready) keeps answering unlimited.
    ...(store.redis ? { redis: store.redis, nameSpace: store.prefix + restRateLimitNamespace, skipOnError: true } : {}),
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
