import type { ServerHandle } from '../lib/proc.js'
import type { ServerKind } from '../lib/types.js'
import { LABELS, interleaved, post, repeatedFigure, start, type Context } from './common.js'
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

async function cannon (ctx: Context, name: string, server: ServerHandle, path: string, body?: string): Promise<CannonResult> {
  const result = await ctx.clients[0].request<CannonResult>('autocannon', {
    url: `${server.url}${path}`,
    connections: ctx.sizes.restConnections,
    duration: ctx.sizes.restSeconds,
    ...(body ? { method: 'POST', body, headers: { 'content-type': 'application/json' } } : {})
  })
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${LABELS[name] ?? name} ${path}: ${result.non2xx} non-2xx answers, ${result.errors} errors of ${result.total}`)
  }
  return result
}

interface Target { name: string, server: ServerHandle, join: { path: string, body: string } }

/**
 * `/health` and the public-room join route, roomwire (on PGlite, and on PostgreSQL when
 * DATABASE_URL is set) against a bare Fastify doing the same: every server up at once, the
 * routes run in interleaved repetitions.
 */
export async function rest (ctx: Context): Promise<ScenarioOutput> {
  const variants: Array<{ name: string, kind: ServerKind, env: Record<string, string> }> = [
    { name: 'roomwire', kind: 'roomwire', env: {} },
    ...(ctx.databaseUrl ? [{ name: 'roomwire-pg', kind: 'roomwire' as const, env: { DATABASE_URL: ctx.databaseUrl } }] : []),
    { name: 'bare-fastify', kind: 'bare-fastify', env: {} }
  ]
  const targets: Target[] = []
  const { reps, restSeconds } = ctx.sizes
  try {
    for (const v of variants) {
      const server = await start(ctx, v.kind, v.env)
      targets.push({ name: v.name, server, join: await joinTarget(v.kind, server.url) })
      // A short warm-up, so that no server is measured while its JIT is cold.
      await ctx.clients[0].request('autocannon', { url: `${server.url}/health`, connections: 10, amount: ctx.mode === 'smoke' ? 200 : 2000 })
    }
    const run = (route: 'health' | 'join') => interleaved(reps, targets.map(t => ({
      name: t.name,
      run: (rep: number) => {
        ctx.progress.step(`${LABELS[t.name] ?? t.name}: ${route === 'health' ? 'GET /health' : 'POST …/join'}, ${restSeconds} s, repetition ${rep + 1}/${reps}`)
        return route === 'health' ? cannon(ctx, t.name, t.server, '/health') : cannon(ctx, t.name, t.server, t.join.path, t.join.body)
      }
    })))
    const health = await run('health')
    const join = await run('join')
    const values = (results: Record<string, CannonResult[]>, name: string, what: 'requestsPerSecond' | 'p99Ms') => results[name].map(r => r[what])
    const subjects = variants.filter(v => v.kind === 'roomwire').map(v => v.name)
    const figures = [
      repeatedFigure('rest.health.rps', 'GET /health requests/s', 'requests/s', 'higher', ['roomwire', values(health, 'roomwire', 'requestsPerSecond')],
        [['bare-fastify', values(health, 'bare-fastify', 'requestsPerSecond')]]),
      repeatedFigure('rest.health.p99', 'GET /health p99 latency', 'ms', 'lower', ['roomwire', values(health, 'roomwire', 'p99Ms')],
        [['bare-fastify', values(health, 'bare-fastify', 'p99Ms')]]),
      // The same app on PostgreSQL: whether an open PGlite (its WASM heap in the process) costs /health.
      ...(health['roomwire-pg']
        ? [repeatedFigure('rest.health.pg.rps', 'GET /health requests/s, on PostgreSQL (no PGlite in the process)', 'requests/s', 'higher',
            ['roomwire-pg', values(health, 'roomwire-pg', 'requestsPerSecond')], [['bare-fastify', values(health, 'bare-fastify', 'requestsPerSecond')]])]
        : []),
      ...subjects.flatMap((name) => {
        const where = name === 'roomwire-pg' ? 'PostgreSQL' : 'PGlite'
        const key = name === 'roomwire-pg' ? 'rest.join.pg' : 'rest.join'
        return [
          repeatedFigure(`${key}.rps`, `POST /api/public/rooms/:roomId/join requests/s, ${where}`, 'requests/s', 'higher', [name, values(join, name, 'requestsPerSecond')],
            [['bare-fastify', values(join, 'bare-fastify', 'requestsPerSecond')]]),
          repeatedFigure(`${key}.p99`, `POST /api/public/rooms/:roomId/join p99 latency, ${where}`, 'ms', 'lower', [name, values(join, name, 'p99Ms')],
            [['bare-fastify', values(join, 'bare-fastify', 'p99Ms')]])
        ]
      })
    ]
    return {
      details: [
        `autocannon (programmatic) in a client process, ${ctx.sizes.restConnections} connections, ${restSeconds} s per route and repetition, after ${ctx.mode === 'smoke' ? 200 : '2,000'} warm-up requests on /health`,
        `every server up at once, ${reps} interleaved repetitions (A B, B A, …) per route; values are medians, ratios the median of the per-repetition ratios ± half their range`,
        `join: the same anonymous user joins again and again (a member keeps its seat); roomwire on PGlite${ctx.databaseUrl ? ' and on PostgreSQL (the run\'s database)' : ' (DATABASE_URL unset: no PostgreSQL figure)'}, the bare Fastify keeps rooms and users in Maps`
      ],
      figures
    }
  } finally {
    await Promise.all(targets.map(t => t.server.stop()))
  }
}
