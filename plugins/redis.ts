import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { connectRedis } from '../src/store/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The Redis connection when REDIS_URL is set, null in the embedded mode. */
    redis: Redis | null
  }
}

export default fp(async (app) => {
  const { redisUrl, redisCommandTimeoutMs } = app.realtimeConfig
  if (redisUrl === undefined || redisUrl === '') {
    app.decorate('redis', null)
    return
  }
  // connectRedis rejects with a clear message when Redis cannot be reached, so ready() fails fast.
  // The store, the limiters and @fastify/rate-limit share this client, so its command timeout covers them all.
  const redis = await connectRedis({ redisUrl, commandTimeoutMs: redisCommandTimeoutMs })
  app.decorate('redis', redis)
  app.addHook('onClose', async () => {
    try {
      await redis.quit()
    } catch {
      // quit fails when the connection is already down; drop it without waiting then.
      redis.disconnect()
    }
  })
}, { name: 'redis', dependencies: ['config'] })
