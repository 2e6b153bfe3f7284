import type { ServerKind } from '../lib/types.js'
import { LABELS, closeAll, connectAll, figure, quiet, specs, start, type Context } from './common.js'
import type { ScenarioOutput } from './index.js'

const SOCKET_TARGETS: ServerKind[] = ['roomwire', 'bare-socketio', 'raw-ws']

/**
 * Idle memory per connection: heap and RSS after a full GC in the server, before and after N
 * idle connected sockets (roomwire: each its own user on `/`, authenticated, in no room).
 */
export async function idleMemory (ctx: Context): Promise<ScenarioOutput> {
  const levels = ctx.sizes.memoryLevels
  const perTarget: Record<string, Array<{ heap: number, rss: number }>> = {}
  // roomwire's presence, profiles and registry live in its store: in the heap on the embedded
  // defaults, in Redis with REDIS_URL. Both are measured when Redis is there.
  const targets: Array<{ name: string, kind: ServerKind, env: Record<string, string> }> = SOCKET_TARGETS.map(kind => ({ name: kind, kind, env: {} }))
  if (ctx.redisUrl) {
    targets.splice(1, 0, { name: 'roomwire-redis', kind: 'roomwire', env: { REDIS_URL: ctx.redisUrl, REDIS_KEY_PREFIX: `${ctx.redisPrefix}memory:` } })
  }
  for (const { name, kind, env } of targets) {
    const server = await start(ctx, kind, env)
    try {
      // Warm-up sockets stay open through the measurement: what the first connections cost once
      // (code compiled lazily, caches, pools) is then in `before` for every server, not in the
      // per-socket figure, and nothing they left behind expires between the two readings.
      await connectAll(ctx, kind, server.url, specs(kind, ctx.sizes.memoryWarmup, (i) => ({ user: `warm-${i}`, rooms: [] })))
      await quiet([server])
      const before = await server.memory()
      perTarget[name] = []
      let open = 0
      for (const level of levels) {
        ctx.progress.step(`${LABELS[name] ?? name}: ${level} idle sockets`)
        const batch = specs(kind, level - open, (i) => ({ user: `idle-${open + i}`, rooms: [] }))
        await connectAll(ctx, kind, server.url, batch)
        open = level
        // Connecting users are announced (roomwire's user:status): measure once that is over.
        await quiet([server])
        const after = await server.memory()
        perTarget[name].push({
          heap: Math.round((after.heapUsed - before.heapUsed) / level),
          rss: Math.round((after.rss - before.rss) / level)
        })
      }
    } finally {
      await closeAll(ctx)
      await server.stop()
    }
  }
  const figures = levels.flatMap((level, i) => (['heap', 'rss'] as const).flatMap((what) => {
    const baselines: Array<[string, number]> = [['bare-socketio', perTarget['bare-socketio'][i][what]], ['raw-ws', perTarget['raw-ws'][i][what]]]
    const label = `idle ${what === 'heap' ? 'heap' : 'RSS'} per connection, ${level} sockets`
    return [
      figure(`memory.${what}.${level}`, label, 'bytes', 'lower', ['roomwire', perTarget.roomwire[i][what]], baselines),
      ...(perTarget['roomwire-redis']
        ? [figure(`memory.redis.${what}.${level}`, `${label}, store in Redis`, 'bytes', 'lower', ['roomwire-redis', perTarget['roomwire-redis'][i][what]], baselines)]
        : [])
    ]
  }))
  return {
    details: [
      `${levels.join(' then ')} idle sockets; (after − before) / N, each read after a full GC in the server, "before" with ${ctx.sizes.memoryWarmup} warm-up sockets already open; roomwire sockets authenticated on \`/\` as distinct users`,
      ctx.redisUrl
        ? 'roomwire measured twice: on the embedded defaults (presence, profiles and the connection registry in the in-process store, i.e. in this heap) and with REDIS_URL (that state in Redis)'
        : 'REDIS_URL unset: roomwire measured on the embedded defaults only (its store is in this heap)'
    ],
    figures
  }
}
