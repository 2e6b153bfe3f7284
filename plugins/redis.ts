import fp from 'fastify-plugin'
import { createStore } from '../src/store/index.js'
import type { Store } from '../src/store/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Presence, limits and room state: Redis when REDIS_URL is set, in-process otherwise. */
    store: Store
  }
}

export default fp(async (app) => {
  const { redisUrl, redisKeyPrefix } = app.realtimeConfig
  // createStore rejects with a clear message when Redis cannot be reached, so ready() fails fast.
  const store = await createStore({ redisUrl, prefix: redisKeyPrefix })
  app.decorate('store', store)
  app.addHook('onClose', async () => { await store.close() })
}, { name: 'redis', dependencies: ['config'] })
