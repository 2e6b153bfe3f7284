import type { FastifyPluginAsync } from 'fastify'
import { probe } from '../src/services/timer.js'

const READY_PROBE_MS = 1_000

/** `/health`: the process is up. `/ready`: SQL and the store answer (503 naming what does not). */
const health: FastifyPluginAsync = async (app) => {
  // Not rate-limited: a liveness probe does no work, and a balancer probing from one address
  // must not see the app as down. (`/ready` pings SQL and the store, so it keeps the limit.)
  app.get('/health', {
    config: { rateLimit: false },
    schema: {
      tags: ['health'],
      summary: 'Liveness: the process is up',
      response: { 200: { type: 'object', properties: { status: { type: 'string' }, uptime: { type: 'number' } }, required: ['status', 'uptime'] } }
    }
  }, async () => ({ status: 'ok', uptime: process.uptime() }))

  app.get('/ready', {
    schema: { tags: ['health'], summary: 'Readiness: SQL and the store answer (503 naming what does not)' }
  }, async (_request, reply) => {
    // A healthy service answers in milliseconds. With a hung Redis the rate-limit check before
    // this handler gives up after REDIS_COMMAND_TIMEOUT_MS: both together stay within 3 s (CONTRACT §11).
    const [database, store] = await Promise.all([
      probe(() => app.sql.ping(), READY_PROBE_MS),
      probe(() => app.store.ping(), READY_PROBE_MS)
    ])
    const checks = {
      database: { kind: app.sql.kind, ok: database === null, ...(database ? { error: database } : {}) },
      store: { kind: app.store.kind, ok: store === null, ...(store ? { error: store } : {}) }
    }
    const failing = [database && 'database', store && (app.store.kind === 'redis' ? 'redis' : 'store')].filter(Boolean)
    if (failing.length > 0) {
      return reply.code(503).send({ status: 'unavailable', code: 'SERVICE_UNAVAILABLE', message: `Not ready: ${failing.join(', ')} unreachable`, checks })
    }
    return { status: 'ready', checks }
  })
}

export default health
