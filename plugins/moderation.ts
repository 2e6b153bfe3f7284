import fp from 'fastify-plugin'
import { createModeration, type Moderation } from '../src/moderation/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Kick, ban, mute of every kind of room, audited in SQL (issue 21). */
    moderation: Moderation
  }
}

/** Issue 21: moderation; each room feature (chat, public rooms, sync) registers how it enforces it. */
export default fp(async (app) => {
  app.decorate('moderation', createModeration({ database: app.sql }))
}, { name: 'moderation', dependencies: ['config', 'db'] })
