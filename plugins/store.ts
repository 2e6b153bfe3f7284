import fp from 'fastify-plugin'
import { createMemoryStore, createRedisStore, isCluster } from '../src/store/index.js'
import { clusterStatePrefix } from '../src/store/keys.js'
import type { Store } from '../src/store/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Presence, limits and room state: on the Redis connection when there is one, in-process otherwise. */
    store: Store
  }
}

export default fp(async (app) => {
  const prefix = app.realtimeConfig.redisKeyPrefix
  // The redis plugin owns (and quits) the connection; the store only closes what it opened.
  // On a Redis Cluster every state key also carries the deployment's hash tag (docs/scaling.md).
  const store = app.redis === null
    ? createMemoryStore({ prefix })
    : createRedisStore({ redis: app.redis, prefix: isCluster(app.redis) ? clusterStatePrefix(prefix) : prefix })
  app.decorate('store', store)
  app.addHook('onClose', async () => { await store.close() })
}, { name: 'store', dependencies: ['config', 'redis'] })
