import type { FastifyPluginAsync } from 'fastify'

async function probe (check: () => Promise<void>, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      check(),
      new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('timed out')), timeoutMs) })
    ])
    return null
  } catch (err) {
    return (err as Error).message || 'unreachable'
  } finally {
    clearTimeout(timer)
  }
}

/** `/health`: the process is up. `/ready`: SQL and the store answer (503 naming what does not). */
const health: FastifyPluginAsync = async (app) => {
  app.get('/health', async () => ({ status: 'ok', uptime: process.uptime() }))

  app.get('/ready', async (_request, reply) => {
    const [database, store] = await Promise.all([
      probe(() => app.sql.ping(), 2_000),
      probe(() => app.store.ping(), 2_000)
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
