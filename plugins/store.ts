import fp from 'fastify-plugin'
import { createMemoryStore, createRedisStore } from '../src/store/index.js'
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
  const store = app.redis === null ? createMemoryStore({ prefix }) : createRedisStore({ redis: app.redis, prefix })
  app.decorate('store', store)
  app.addHook('onClose', async () => { await store.close() })
}, { name: 'store', dependencies: ['config', 'redis'] })
