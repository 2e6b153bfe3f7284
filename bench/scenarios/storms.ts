import type { ServerHandle } from '../lib/proc.js'
import { JWT_SECRET, chatToken } from '../lib/tokens.js'
import type { ServerKind } from '../lib/types.js'
import { LABELS, closeAll, connectAll, figure, quiet, round, sleep, specs, start, type Context } from './common.js'
import type { ScenarioOutput } from './index.js'

const SOCKET_TARGETS: ServerKind[] = ['roomwire', 'bare-socketio', 'raw-ws']

interface StormTimes { connectRate: number, connectCpuUs: number, connectWrites: number, disconnectRate: number, disconnectCpuUs: number }

/** Polls until the server holds no connection (at most `maxMs`); returns when that was seen. */
async function drained (server: ServerHandle, maxMs: number): Promise<number> {
  const until = Date.now() + maxMs
  while (Date.now() < until) {
    if (await server.connections() === 0) return performance.now()
    await sleep(10)
  }
  throw new Error(`${LABELS[server.kind]}: still holds ${await server.connections()} connections ${maxMs} ms after the disconnect storm`)
}

/**
 * One size on a fresh server: after a warm-up (`connectWarmup` other users connect, join rooms of
 * 10 and leave: what a fresh process pays once, for lazily compiled code and JIT tiers, is not
 * counted per socket of the smallest size), N sockets (distinct users) connect and join rooms of
 * 10, then all disconnect at once. Rates: N / (first connect → last join ack) and N / (first close → the
 * server holds no connection); server CPU per socket from /proc, up to the server being idle
 * again (what a connect or disconnect set off afterwards is counted too).
 */
async function connectThenDisconnect (ctx: Context, kind: ServerKind, n: number): Promise<StormTimes> {
  const server = await start(ctx, kind)
  try {
    ctx.progress.step(`${LABELS[kind]}: warm-up, ${ctx.sizes.connectWarmup} sockets connect, join and leave`)
    await connectAll(ctx, kind, server.url, specs(kind, ctx.sizes.connectWarmup, (i) => ({ user: `warm-${n}-${i}`, rooms: [`W${n}-${Math.floor(i / 10)}`] })))
    await closeAll(ctx)
    await drained(server, 60_000)
    await quiet([server])
    ctx.progress.step(`${LABELS[kind]}: ${n} sockets connect and join`)
    const sockets = specs(kind, n, (i) => ({ user: `joiner-${n}-${i}`, rooms: [`J${n}-${Math.floor(i / 10)}`] }))
    const cpu0 = server.cpu()
    const writes0 = server.writes()
    const { seconds } = await connectAll(ctx, kind, server.url, sockets)
    await quiet([server])
    const connectCpu = server.cpu() - cpu0
    const connectWrites = server.writes() - writes0
    ctx.progress.step(`${LABELS[kind]}: ${n} sockets disconnect`)
    const cpu1 = server.cpu()
    const t0 = performance.now()
    await closeAll(ctx)
    const t1 = await drained(server, 60_000 + n * 20)
    await quiet([server])
    const disconnectCpu = server.cpu() - cpu1
    return {
      connectRate: round(n / seconds, 1),
      connectCpuUs: Math.round(connectCpu / n * 1e6),
      connectWrites: round(connectWrites / n, 2),
      disconnectRate: round(n / Math.max(0.001, (t1 - t0) / 1000), 1),
      disconnectCpuUs: Math.round(disconnectCpu / n * 1e6)
    }
  } finally {
    await closeAll(ctx)
    await server.stop()
  }
}

/**
 * Connect and disconnect storms at each size (issue 17): every size on a fresh server per
 * target, the targets in turns (roomwire, bare, raw; then bare, raw, roomwire; …), so that the
 * time per connection at the largest size against the smallest shows whether a connect costs
 * the same however many users are online.
 */
export async function connectAndJoin (ctx: Context): Promise<ScenarioOutput> {
  const levels = ctx.sizes.connectSockets
  const m: Record<string, StormTimes[]> = Object.fromEntries(SOCKET_TARGETS.map(k => [k, []]))
  for (const [li, n] of levels.entries()) {
    for (let k = 0; k < SOCKET_TARGETS.length; k++) {
      const kind = SOCKET_TARGETS[(li + k) % SOCKET_TARGETS.length]
      m[kind][li] = await connectThenDisconnect(ctx, kind, n)
    }
  }
  const last = levels.length - 1
  // Time per connection at the largest size over the smallest: 1 is linear.
  const growth = (kind: string, key: 'connectRate' | 'disconnectRate') => round(m[kind][0][key] / m[kind][last][key], 2)
  const bases = (pick: (kind: string) => number): Array<[string, number]> => SOCKET_TARGETS.slice(1).map(k => [k, pick(k)])
  const perSize = (what: 'connect' | 'disconnect') => levels.flatMap((n, i) => [
    figure(`${what}.rate.${n}`, `${what === 'connect' ? 'connect + join' : 'disconnect'} rate, ${n} sockets`, 'sockets/s', 'higher',
      ['roomwire', m.roomwire[i][`${what}Rate`]], bases(k => m[k][i][`${what}Rate`])),
    figure(`${what}.cpu.${n}`, `server CPU per ${what === 'connect' ? 'connect + join' : 'disconnect'}, ${n} sockets`, 'µs', 'lower',
      ['roomwire', m.roomwire[i][`${what}CpuUs`]], bases(k => m[k][i][`${what}CpuUs`])),
    ...(what === 'connect'
      ? [figure(`connect.writes.${n}`, `server write system calls per connect + join, ${n} sockets`, 'calls', 'lower',
          ['roomwire', m.roomwire[i].connectWrites], bases(k => m[k][i].connectWrites))]
      : [])
  ])
  return {
    details: [
      `${levels.join(', ')} sockets (distinct users), rooms of 10, each size on a fresh server after a warm-up (${ctx.sizes.connectWarmup} other users connect, join and leave), the targets in turns; ${ctx.clients.length} client processes × 50 in flight`,
      'write system calls: syscw of /proc/<pid>/io over the connect storm (each frame a server sends is a write unless several leave together)',
      'connect rate = N / (first connect → last join ack); disconnect storm: every socket closed at once, rate = N / (first close → the server holds no connection)',
      'server CPU per socket: /proc, from the first connect (or close) until the server is idle again (≤ 20 ms of CPU in 300 ms), so later work is counted',
      `growth = time per connection at ${levels[last]} / at ${levels[0]} (1 = linear)`
    ],
    figures: [
      ...perSize('connect'),
      figure('connect.growth', `time per connection, ${levels[last]} over ${levels[0]} sockets`, '×', 'lower', ['roomwire', growth('roomwire', 'connectRate')],
        bases(k => growth(k, 'connectRate'))),
      ...perSize('disconnect'),
      figure('disconnect.growth', `time per disconnect, ${levels[last]} over ${levels[0]} sockets`, '×', 'lower', ['roomwire', growth('roomwire', 'disconnectRate')],
        bases(k => growth(k, 'disconnectRate')))
    ]
  }
}

interface StormResult { bytes: number, seconds: number, cpuSeconds: number }

/** How long a storm may take in all: the literal baseline at 1,000 joins sends ~20 GB. */
const STORM_TIMEOUT_MS = 600_000

/** N connected sockets (distinct users) join one code room at once; until every list is final. */
async function stormOn (ctx: Context, kind: ServerKind, n: number): Promise<StormResult> {
  const server = await start(ctx, kind, kind === 'bare-seed003' ? { JWT_SECRET } : {})
  try {
    ctx.progress.step(`${LABELS[kind]}: ${n} sockets connecting`)
    const tokens: string[][] = ctx.clients.map(() => [])
    for (let i = 0; i < n; i++) tokens[i % tokens.length].push(chatToken(`storm-${i}`))
    await Promise.all(ctx.clients.map((c, i) => c.request('stormConnect', { url: server.url, tokens: tokens[i], concurrency: 50 })))
    await quiet([server])
    await Promise.all(ctx.clients.map(c => c.request('stormReset')))
    ctx.progress.step(`${LABELS[kind]}: ${n} sockets join one code room`)
    const cpu0 = server.cpu()
    const t0 = performance.timeOrigin + performance.now()
    // One deadline for the whole storm (joins and lists), not one per join.
    const until = Date.now() + STORM_TIMEOUT_MS
    const joins = await Promise.all(ctx.clients.map(c => c.request<{ failures: number, firstError?: string }>('joinAll', { room: 'STORM', concurrency: 50, deadline: until })))
    const failed = joins.reduce((s, j) => s + j.failures, 0)
    if (failed > 0) throw new Error(`${LABELS[kind]}: ${failed} joins failed: ${joins.find(j => j.firstError)?.firstError}`)
    // Final: every socket's latest users_online holds all N users.
    let state: Array<{ bytes: number, full: number, lastAt: number }> = []
    while (Date.now() < until) {
      state = await Promise.all(ctx.clients.map(c => c.request<{ bytes: number, full: number, lastAt: number }>('storm', { size: n })))
      if (state.reduce((s, c) => s + c.full, 0) === n) break
      await sleep(50)
    }
    const full = state.reduce((s, c) => s + c.full, 0)
    if (full !== n) throw new Error(`${LABELS[kind]}: ${full} of ${n} sockets hold the full list ${STORM_TIMEOUT_MS / 1000} s after the storm`)
    await quiet([server])
    const after = await Promise.all(ctx.clients.map(c => c.request<{ bytes: number, full: number, lastAt: number }>('storm', { size: n })))
    return {
      bytes: after.reduce((s, c) => s + c.bytes, 0),
      seconds: round((Math.max(...state.map(c => c.lastAt)) - t0) / 1000, 3),
      cpuSeconds: round(server.cpu() - cpu0, 2)
    }
  } finally {
    await Promise.all(ctx.clients.map(c => c.request('stormClose')))
    await server.stop()
  }
}

/**
 * Join storm (issue 17): N sockets of distinct users join one code room at once. The baseline
 * is seed 003 done literally (`bench/servers/bare-seed003.ts`: the whole list to the whole room
 * on every join, ~N³/3 list entries); roomwire coalesces member lists (PRESENCE_COALESCE_MS).
 */
export async function joinStorm (ctx: Context): Promise<ScenarioOutput> {
  const n = ctx.sizes.stormSockets
  const r: Record<string, StormResult> = {}
  for (const kind of ['roomwire', 'bare-seed003'] as const) r[kind] = await stormOn(ctx, kind, n)
  const fig = (key: keyof StormResult, label: string, unit: string) =>
    figure(`storm.${key}`, label, unit, 'lower', ['roomwire', r.roomwire[key]], [['bare-seed003', r['bare-seed003'][key]]])
  return {
    details: [
      `${n} connected sockets (distinct users) join one code room (\`join_room\`), 50 in flight per client process (${ctx.clients.length}); the sockets are bench/lib/storm-client.ts, a minimal Socket.IO client that counts what it receives without parsing it (so that the client is not what is measured)`,
      'bytes: every message frame the sockets received from the first join on (lists, `joined_room`, acks, pings); time: first join → the last `users_online` once every socket holds all N users; server CPU until it is idle again'
    ],
    figures: [
      fig('bytes', `bytes sent to the room's sockets, ${n} joins`, 'bytes'),
      fig('seconds', `time until every member list is final, ${n} joins`, 's'),
      fig('cpuSeconds', `server CPU for the storm, ${n} joins`, 'CPU-s')
    ]
  }
}
