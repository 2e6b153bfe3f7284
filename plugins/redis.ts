import fp from 'fastify-plugin'
import { parseClusterNodes } from '../src/config.js'
import { connectCluster, connectRedis, type RedisClient } from '../src/store/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The Redis connection when REDIS_URL is set (a Cluster with REDIS_CLUSTER_NODES), null in the embedded mode. */
    redis: RedisClient | null
  }
}

export default fp(async (app) => {
  const { redisUrl, redisClusterNodes, redisCommandTimeoutMs, redisClusterSlotsRefreshMs } = app.realtimeConfig
  // connectRedis/connectCluster reject with a clear message when Redis cannot be reached, so ready() fails fast.
  // The store, the limiters and @fastify/rate-limit share this client, so its command timeout covers them all.
  let redis: RedisClient
  if (redisClusterNodes !== undefined && redisClusterNodes !== '') {
    redis = await connectCluster({
      nodes: parseClusterNodes(redisClusterNodes),
      commandTimeoutMs: redisCommandTimeoutMs,
      slotsRefreshMs: redisClusterSlotsRefreshMs,
      onError: (err) => { app.log.debug({ err }, 'redis cluster error') }
    })
  } else if (redisUrl !== undefined && redisUrl !== '') {
    redis = await connectRedis({ redisUrl, commandTimeoutMs: redisCommandTimeoutMs })
  } else {
    app.decorate('redis', null)
    return
  }
  app.decorate<RedisClient | null>('redis', redis)
  app.addHook('onClose', async () => {
    try {
      await redis.quit()
    } catch {
      // quit fails when the connection is already down; drop it without waiting then.
      redis.disconnect()
    }
  })
}, { name: 'redis', dependencies: ['config'] })
