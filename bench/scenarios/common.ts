import { join } from 'node:path'
import { merge, summarize, type LatencySummary } from '../lib/hist.js'
import { startServer, type ClientHandle, type ServerHandle } from '../lib/proc.js'
import type { Progress } from '../lib/progress.js'
import { median, pairedRatios, spreadOf } from '../lib/spread.js'
import { chatToken } from '../lib/tokens.js'
import type {
  CollectResult, ConnectResult, Figure, LatencyStep, Mode, Protocol, PublishArgs, PublishResult, ServerKind, SocketSpec
} from '../lib/types.js'

export interface Sizes {
  memoryLevels: number[]
  /** Sockets opened before the memory scenario's first reading, and kept open. */
  memoryWarmup: number
  /** Distinct users in rooms of 10, each size on a fresh server (issue 17: linear, not quadratic). */
  connectSockets: number[]
  /** Sockets (distinct users) that connect, join and leave on each fresh server before a storm is measured. */
  connectWarmup: number
  fanoutSubscribers: number
  fanoutRates: number[]
  stepMs: number
  /** Distinct users behind the fan-out room's subscribers (see docs/benchmarks.md). */
  fanoutUsers: number
  rooms: number
  roomRate: number
  ackRate: number
  ackMs: number
  redisRates: number[]
  restSeconds: number
  restConnections: number
  /** Interleaved repetitions of every per-CPU figure (A B A B …; issue 23: at least 3). */
  reps: number
  /** Length of one repetition of a per-CPU figure. */
  cpuStepMs: number
  /** Publish rate of the fan-out's interleaved per-CPU figure. */
  fanoutCpuRate: number
  /** Join storm: distinct users into one code room (roomwire, and the literal seed-003 server). */
  stormSockets: number
}

export const SIZES: Record<Mode, Sizes> = {
  smoke: {
    memoryLevels: [150, 300],
    memoryWarmup: 20,
    connectSockets: [100, 200],
    connectWarmup: 50,
    fanoutSubscribers: 40,
    fanoutRates: [20, 100],
    stepMs: 1000,
    fanoutUsers: 10,
    rooms: 10,
    roomRate: 20,
    ackRate: 20,
    ackMs: 1000,
    redisRates: [10],
    restSeconds: 1,
    restConnections: 10,
    reps: 3,
    cpuStepMs: 500,
    fanoutCpuRate: 20,
    stormSockets: 50
  },
  quick: {
    memoryLevels: [2000, 10000],
    memoryWarmup: 100,
    connectSockets: [1000, 5000],
    connectWarmup: 2000,
    fanoutSubscribers: 1000,
    fanoutRates: [2, 10, 50, 100, 200, 400, 800],
    stepMs: 3000,
    fanoutUsers: 10,
    rooms: 100,
    roomRate: 5,
    ackRate: 100,
    ackMs: 5000,
    redisRates: [2, 10, 50, 100, 200, 400],
    // × 5 repetitions × 2 routes × 3 servers (with PostgreSQL): about 2 minutes in all.
    restSeconds: 3,
    restConnections: 50,
    // Issue 23: ±14.9 % over 3 repetitions of 4 s (many rooms: ~0.6 CPU-s a step, 60 clock
    // ticks). 5 repetitions of 6 s, CPU read to the nanosecond (proc.ts): ~90 s per figure.
    reps: 5,
    cpuStepMs: 6000,
    fanoutCpuRate: 50,
    // The literal seed-003 server sends ~N³/3 list entries: ~0.5 GB at 300, ~20 GB at 1,000 (full).
    stormSockets: 300
  },
  full: {
    memoryLevels: [5000, 10000],
    memoryWarmup: 200,
    connectSockets: [1000, 5000, 10000],
    connectWarmup: 2000,
    fanoutSubscribers: 1000,
    fanoutRates: [2, 10, 50, 100, 150, 200, 300, 400, 600, 800, 1200, 1600],
    stepMs: 10000,
    fanoutUsers: 10,
    rooms: 100,
    roomRate: 10,
    ackRate: 100,
    ackMs: 20000,
    redisRates: [2, 10, 50, 100, 150, 200, 300, 400, 600, 800],
    restSeconds: 15,
    restConnections: 100,
    reps: 5,
    cpuStepMs: 10000,
    fanoutCpuRate: 100,
    stormSockets: 1000
  }
}

export interface Context {
  mode: Mode
  sizes: Sizes
  progress: Progress
  clients: ClientHandle[]
  /** Env of every roomwire server (secrets, raised limits, quiet logs). */
  roomwireEnv: Record<string, string>
  /** A database of this run (dropped at the end), when DATABASE_URL is set. */
  databaseUrl?: string
  redisUrl?: string
  /** Every Redis key of this run starts with it (deleted at the end). */
  redisPrefix: string
  /** Smoke mode: roomwire servers kept across scenarios, by env (stopped by the runner). */
  reused: Map<string, ServerHandle>
  /** --cpu-prof: profiles of roomwire's servers go to <dir>/<scenario id>/. */
  cpuProfileDir?: string
  /** The scenario running now. */
  scenarioId: string
}

export const protocolOf = (kind: ServerKind): Protocol => kind === 'raw-ws' ? 'ws' : 'socketio'

export const LABELS: Record<string, string> = {
  roomwire: 'roomwire',
  'roomwire-redis': 'roomwire (store in Redis)',
  'roomwire-pg': 'roomwire (PostgreSQL)',
  'roomwire-bufferutil': 'roomwire (ws + bufferutil)',
  'bare-socketio': 'bare Socket.IO',
  'bare-seed003': 'bare Socket.IO, seed 003 literally',
  'raw-ws': 'raw ws',
  'bare-fastify': 'bare Fastify'
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** PGlite directories under the run's DATA_DIR that no running server holds. */
const freeDataDirs: string[] = []
let dataDirs = 0

/**
 * A PGlite directory of its own for a roomwire server on PGlite (one directory serves one
 * process): one a stopped server left, so that initdb is paid once per server up at a time.
 */
function takeDataDir (env: Record<string, string>): string | undefined {
  if (env.DATABASE_URL || !env.DATA_DIR || env.DATA_DIR === 'memory') return undefined
  return freeDataDirs.pop() ?? join(env.DATA_DIR, String(dataDirs++))
}

export async function start (ctx: Context, kind: ServerKind, env: Record<string, string> = {}): Promise<ServerHandle> {
  // --cpu-prof: every roomwire server of the scenario writes its profile into the scenario's folder.
  const execArgv = kind === 'roomwire' && ctx.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.cpuProfileDir, ctx.scenarioId)}`] : []
  // Smoke mode only checks that the suite works: one roomwire process per env serves every
  // scenario (its start, PGlite's WASM, takes seconds), stopped at the end of the run.
  const reuse = ctx.mode === 'smoke' && kind === 'roomwire' && execArgv.length === 0
  const key = JSON.stringify(env)
  const kept = reuse ? ctx.reused.get(key) : undefined
  if (kept) return { ...kept, stop: async () => {} }
  ctx.progress.step(`starting ${LABELS[kind]}`)
  const roomwireEnv = kind === 'roomwire' ? { ...ctx.roomwireEnv, ...env } : undefined
  const dataDir = roomwireEnv ? takeDataDir(roomwireEnv) : undefined
  let server: ServerHandle
  try {
    server = await startServer(kind, { env: roomwireEnv ? { ...roomwireEnv, ...(dataDir ? { DATA_DIR: dataDir } : {}) } : env, execArgv })
  } catch (err) {
    if (dataDir) freeDataDirs.push(dataDir)
    throw err
  }
  if (dataDir) {
    const stop = server.stop
    server = { ...server, stop: async () => { try { await stop() } finally { freeDataDirs.push(dataDir) } } }
  }
  // A settled process: its start-up garbage collected, its JIT warm on the next requests.
  await server.memory()
  if (!reuse) return server
  ctx.reused.set(key, server)
  return { ...server, stop: async () => {} }
}

/** Servers that authenticate their sockets with a chat JWT (roomwire, the literal seed-003 server). */
export const needsToken = (kind: ServerKind) => kind === 'roomwire' || kind === 'bare-seed003'

/** Socket specs for roomwire (and seed 003) get a JWT each; `user` names the user of the i-th socket. */
export function specs (kind: ServerKind, count: number, make: (i: number) => Omit<SocketSpec, 'token'> & { user: string }): SocketSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const { user, ...spec } = make(i)
    return needsToken(kind) ? { ...spec, token: chatToken(user) } : spec
  })
}

/** Splits the sockets over the client processes (round robin) and connects them all. */
export async function connectAll (
  ctx: Context, kind: ServerKind, url: string | string[], sockets: SocketSpec[], vocabulary: 'code' | 'group' = 'code', concurrency = 50
): Promise<{ opened: number, seconds: number }> {
  const urls = Array.isArray(url) ? url : [url]
  const parts: SocketSpec[][] = ctx.clients.map(() => [])
  sockets.forEach((spec, i) => parts[i % parts.length].push(spec))
  const results = await Promise.all(ctx.clients.map((client, i) => client.request<ConnectResult>('connect', {
    protocol: protocolOf(kind), url: urls[i % urls.length], sockets: parts[i], concurrency, vocabulary
  })))
  const failures = results.reduce((n, r) => n + r.failures, 0)
  if (failures > 0) {
    throw new Error(`${LABELS[kind]}: ${failures} of ${sockets.length} sockets failed: ${results.find(r => r.firstError)?.firstError}`)
  }
  const seconds = (Math.max(...results.map(r => r.endedAt)) - Math.min(...results.map(r => r.startedAt))) / 1000
  return { opened: sockets.length, seconds }
}

/** Closes the clients' sockets (of one group only, when given). */
export async function closeAll (ctx: Context, group?: string): Promise<void> {
  await Promise.all(ctx.clients.map(c => c.request('close', { group })))
}

/**
 * `reps` rounds of every arm in turn (A B A B …; each round starts one arm later, A B, B A, so
 * that a drift of the machine's load does not always favour the same arm). Returns each arm's
 * results in repetition order.
 */
export async function interleaved<T> (reps: number, arms: Array<{ name: string, run: (rep: number) => Promise<T> }>): Promise<Record<string, T[]>> {
  const out: Record<string, T[]> = Object.fromEntries(arms.map(a => [a.name, []]))
  for (let rep = 0; rep < reps; rep++) {
    for (let k = 0; k < arms.length; k++) {
      const arm = arms[(rep + k) % arms.length]
      out[arm.name][rep] = await arm.run(rep)
    }
  }
  return out
}

export interface Collected extends LatencySummary { received: number, lastAt: number }

export async function collectAll (ctx: Context): Promise<Collected> {
  const results = await Promise.all(ctx.clients.map(c => c.request<CollectResult>('collect')))
  const errors = results.reduce((n, r) => n + r.serverErrors, 0)
  if (errors > 0) throw new Error(`${errors} error events from the server: ${results.find(r => r.firstServerError)?.firstServerError}`)
  const merged = summarize(merge(results.map(r => r.histogram)))
  return { ...merged, received: results.reduce((n, r) => n + r.received, 0), lastAt: Math.max(...results.map(r => r.lastAt)) }
}

const clientCpu = (ctx: Context) => ctx.clients.reduce((s, c) => s + c.cpu(), 0)

/**
 * One fixed-rate step: every publisher socket sends `rate` messages/s for `stepMs`, then the
 * step waits for the deliveries to drain (up to max(2 s, stepMs)). Server CPU is read from
 * /proc for the whole window, deliveries/s over publish start → last delivery.
 */
export async function runStep (
  ctx: Context, servers: ServerHandle[], rate: number, recipientsPerMessage: number, publish: Partial<PublishArgs> = {}
): Promise<LatencyStep & { publish: PublishResult[] }> {
  await Promise.all(ctx.clients.map(c => c.request('reset')))
  const cpu0 = servers.reduce((s, srv) => s + srv.cpu(), 0)
  const client0 = clientCpu(ctx)
  const startedAt = performance.timeOrigin + performance.now()
  const published = await Promise.all(ctx.clients.map(c => c.request<PublishResult>('publish', { rate, durationMs: ctx.sizes.stepMs, ...publish })))
  const sent = published.reduce((n, p) => n + p.sent, 0)
  const errors = published.reduce((n, p) => n + p.errors, 0)
  if (errors > 0) throw new Error(`publish errors (${errors}): ${published.find(p => p.firstError)?.firstError}`)
  const expected = sent * recipientsPerMessage
  const drainUntil = Date.now() + Math.max(2_000, ctx.sizes.stepMs)
  while (Date.now() < drainUntil) {
    const counts = await Promise.all(ctx.clients.map(c => c.request<number>('count')))
    if (counts.reduce((a, b) => a + b, 0) >= expected) break
    await sleep(50)
  }
  const serverCpuSeconds = servers.reduce((s, srv) => s + srv.cpu(), 0) - cpu0
  const clientCpuSeconds = clientCpu(ctx) - client0
  const got = await collectAll(ctx)
  const seconds = Math.max(0.001, (got.lastAt - startedAt) / 1000)
  return {
    rate,
    sent,
    expected,
    received: got.received,
    deliveriesPerSecond: Math.round(got.received / seconds),
    deliveriesPerServerCpuSecond: serverCpuSeconds > 0 ? Math.round(got.received / serverCpuSeconds) : null,
    p50Ms: got.p50Ms,
    p99Ms: got.p99Ms,
    maxMs: got.maxMs,
    serverCpuSeconds: round(serverCpuSeconds, 2),
    clientCpuSeconds: round(clientCpuSeconds, 2),
    publish: published
  }
}

/**
 * Waits until the servers are idle (under 20 ms of CPU per 300 ms, at most `maxMs`): what a
 * join or connect set off (roomwire's users_online, user:status) is not counted as load.
 */
export async function quiet (servers: ServerHandle[], maxMs = 30_000): Promise<void> {
  const until = Date.now() + maxMs
  while (Date.now() < until) {
    const before = servers.reduce((s, srv) => s + srv.cpu(), 0)
    await sleep(300)
    if (servers.reduce((s, srv) => s + srv.cpu(), 0) - before <= 0.02) return
  }
}

export const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits

/** A figure: the subject's value against each baseline, ratio = subject / baseline. */
export function figure (
  key: string, label: string, unit: string, better: Figure['better'],
  subject: [string, number | null | undefined], baselines: Array<[string, number | null | undefined]>, note?: string
): Figure {
  const value = subject[1] ?? null
  return {
    key,
    label,
    unit,
    better,
    subject: { name: subject[0], value },
    baselines: baselines.map(([name, v]) => ({
      name,
      value: v ?? null,
      ratio: value !== null && v !== null && v !== undefined && v !== 0 ? round(value / v, 3) : null
    })),
    ...(note ? { note } : {})
  }
}

/**
 * A figure over interleaved repetitions: each value is the median of its repetitions, each
 * ratio the median of the per-repetition ratios, with their spread.
 */
export function repeatedFigure (
  key: string, label: string, unit: string, better: Figure['better'],
  subject: [string, Array<number | null>], baselines: Array<[string, Array<number | null>]>, note?: string
): Figure {
  const present = (values: Array<number | null>) => values.filter((v): v is number => v !== null && Number.isFinite(v))
  const mid = (values: Array<number | null>) => present(values).length > 0 ? round(median(present(values)), 3) : null
  return {
    key,
    label,
    unit,
    better,
    subject: { name: subject[0], value: mid(subject[1]), values: present(subject[1]) },
    baselines: baselines.map(([name, values]) => {
      const spread = spreadOf(pairedRatios(subject[1], values))
      return { name, value: mid(values), ratio: spread?.median ?? null, values: present(values), ...(spread ? { spread } : {}) }
    }),
    ...(note ? { note } : {})
  }
}

/** A JSON POST (REST set-up of a scenario); anything but 2xx is an error. */
export async function post<T> (url: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body)
  })
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`)
  return await res.json() as T
}
