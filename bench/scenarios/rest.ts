import type { ServerHandle } from '../lib/proc.js'
import type { ServerKind } from '../lib/types.js'
import { LABELS, figure, post, start, type Context } from './common.js'
import type { ScenarioOutput } from './index.js'

interface CannonResult { requestsPerSecond: number, total: number, p50Ms: number, p99Ms: number, non2xx: number, errors: number, timeouts: number }

/** A public room and an anonymous user of this IP: the join route's inputs. */
async function joinTarget (kind: ServerKind, url: string): Promise<{ path: string, body: string }> {
  let token: string | undefined
  if (kind === 'roomwire') {
    ({ token } = await post<{ token: string }>(`${url}/api/auth/register`, { username: `rest${Date.now()}`, password: 'bench password 0123456789' }))
  }
  const room = await post<{ id: string }>(`${url}/api/public/rooms`, { name: 'bench', capacity: 1000 }, token)
  const { userId } = await post<{ userId: string }>(`${url}/api/public/users`, { userName: 'bench' })
  return { path: `/api/public/rooms/${room.id}/join`, body: JSON.stringify({ userId }) }
}

async function cannon (ctx: Context, server: ServerHandle, path: string, body?: string): Promise<CannonResult> {
  ctx.progress.step(`${LABELS[server.kind]}: ${body ? 'POST' : 'GET'} ${path.replace(/[0-9a-f-]{36}/, ':roomId')}, ${ctx.sizes.restSeconds} s`)
  const result = await ctx.clients[0].request<CannonResult>('autocannon', {
    url: `${server.url}${path}`,
    connections: ctx.sizes.restConnections,
    duration: ctx.sizes.restSeconds,
    ...(body ? { method: 'POST', body, headers: { 'content-type': 'application/json' } } : {})
  })
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${LABELS[server.kind]} ${path}: ${result.non2xx} non-2xx answers, ${result.errors} errors of ${result.total}`)
  }
  return result
}

/** `/health` and the public-room join route, roomwire against a bare Fastify doing the same. */
export async function rest (ctx: Context): Promise<ScenarioOutput> {
  const results: Record<string, { health: CannonResult, join: CannonResult }> = {}
  for (const kind of ['roomwire', 'bare-fastify'] as const) {
    const server = await start(ctx, kind)
    try {
      const join = await joinTarget(kind, server.url)
      // A short warm-up, so that neither side is measured while its JIT is cold.
      await ctx.clients[0].request('autocannon', { url: `${server.url}/health`, connections: 10, amount: ctx.mode === 'smoke' ? 200 : 2000 })
      results[kind] = { health: await cannon(ctx, server, '/health'), join: await cannon(ctx, server, join.path, join.body) }
    } finally {
      await server.stop()
    }
  }
  const fig = (route: 'health' | 'join', what: 'requestsPerSecond' | 'p99Ms') => figure(
    `rest.${route}.${what === 'p99Ms' ? 'p99' : 'rps'}`,
    `${route === 'health' ? 'GET /health' : 'POST /api/public/rooms/:roomId/join'} ${what === 'p99Ms' ? 'p99 latency' : 'requests/s'}`,
    what === 'p99Ms' ? 'ms' : 'requests/s', what === 'p99Ms' ? 'lower' : 'higher',
    ['roomwire', results.roomwire[route][what]], [['bare-fastify', results['bare-fastify'][route][what]]])
  return {
    details: [
      `autocannon (programmatic) in a client process, ${ctx.sizes.restConnections} connections, ${ctx.sizes.restSeconds} s per route, after ${ctx.mode === 'smoke' ? 200 : '2,000'} warm-up requests on /health`,
      'join: the same anonymous user joins again and again (a member keeps its seat); roomwire on PGlite, the bare Fastify keeps rooms and users in Maps'
    ],
    figures: [fig('health', 'requestsPerSecond'), fig('health', 'p99Ms'), fig('join', 'requestsPerSecond'), fig('join', 'p99Ms')]
  }
}
