import type { ServerHandle } from '../lib/proc.js'
import type { LatencyStep, ServerKind, SocketSpec } from '../lib/types.js'
import { LABELS, closeAll, connectAll, figure, interleaved, quiet, repeatedFigure, runStep, specs, start, type Context } from './common.js'
import type { ScenarioOutput } from './index.js'

const TARGETS: ServerKind[] = ['roomwire', 'bare-socketio', 'raw-ws']
export const P99_LIMIT_MS = 100

/**
 * One room of N subscribers and a publisher (also a member, not counted), on `servers`
 * (client i connects to servers[i % n]; the publisher is on the first). Publish rates are
 * stepped until p99 > 100 ms.
 */
export async function steppedFanout (ctx: Context, kind: ServerKind, servers: ServerHandle[], rates: number[], label: string): Promise<LatencyStep[]> {
  const n = ctx.sizes.fanoutSubscribers
  const users = ctx.sizes.fanoutUsers
  const sockets = [
    ...specs(kind, 1, () => ({ user: 'publisher', rooms: ['FANOUT'], publisher: true })),
    ...specs(kind, n, (i) => ({ user: `subscriber-${i % users}`, rooms: ['FANOUT'], record: true }))
  ]
  ctx.progress.step(`${label}: ${n} subscribers joining`)
  await connectAll(ctx, kind, servers.map(s => s.url), sockets)
  // Join notifications (roomwire's users_online) still in flight must not count as load.
  await quiet(servers)
  const steps: LatencyStep[] = []
  for (const rate of rates) {
    ctx.progress.step(`${label}: ${rate} msg/s (step ${steps.length + 1}/${rates.length})`)
    const { publish: _p, ...step } = await runStep(ctx, servers, rate, n)
    steps.push(step)
    if (step.p99Ms > P99_LIMIT_MS || step.received < step.expected * 0.5) break
  }
  await closeAll(ctx)
  return steps
}

/** Highest deliveries/s of a step that kept p99 ≤ 100 ms and delivered everything. */
export function maxSustained (steps: LatencyStep[]): number | null {
  const ok = steps.filter(s => s.p99Ms <= P99_LIMIT_MS && s.received >= s.expected)
  return ok.length > 0 ? Math.max(...ok.map(s => s.deliveriesPerSecond)) : null
}

/** The highest rate every series ran: figures are compared there. */
export function referenceRate (series: Record<string, LatencyStep[]>): number {
  return Math.min(...Object.values(series).map(steps => Math.max(...steps.map(s => s.rate))))
}

export const stepAt = (steps: LatencyStep[], rate: number) => steps.find(s => s.rate === rate)

/** One server of an interleaved run: its name in the figures, its kind and env. */
export interface Arm { name: string, kind: ServerKind, env?: Record<string, string> }

/**
 * Servers started together, each with its own sockets (one group per server), then
 * `ctx.sizes.reps` interleaved steps of every server in turn (A B C, B C A, …).
 */
export async function interleavedSteps (
  ctx: Context, arms: Array<ServerKind | Arm>, sockets: (kind: ServerKind) => SocketSpec[], rate: number, recipients: number, label: string
): Promise<Record<string, LatencyStep[]>> {
  const list: Arm[] = arms.map(a => typeof a === 'string' ? { name: a, kind: a } : a)
  const servers: ServerHandle[] = []
  try {
    for (const arm of list) servers.push(await start(ctx, arm.kind, arm.env))
    for (const [i, arm] of list.entries()) {
      ctx.progress.step(`${LABELS[arm.name] ?? arm.name}: ${label}: connecting`)
      await connectAll(ctx, arm.kind, servers[i].url, sockets(arm.kind).map(spec => ({ ...spec, group: arm.name })))
    }
    await quiet(servers)
    return await interleaved(ctx.sizes.reps, list.map((arm, i) => ({
      name: arm.name,
      run: async (rep: number) => {
        ctx.progress.step(`${LABELS[arm.name] ?? arm.name}: ${label}: ${rate} msg/s, repetition ${rep + 1}/${ctx.sizes.reps}`)
        const { publish: _p, ...step } = await runStep(ctx, [servers[i]], rate, recipients, { group: arm.name, durationMs: ctx.sizes.cpuStepMs })
        return step
      }
    })))
  } finally {
    await closeAll(ctx)
    await Promise.all(servers.map(s => s.stop()))
  }
}

export const pickAll = <K extends keyof LatencyStep>(steps: LatencyStep[], key: K) => steps.map(s => s[key] as number | null)

/** The fan-out's per-CPU figure: every server up at once, steps at one rate interleaved. */
async function fanoutCpu (ctx: Context): Promise<Record<string, LatencyStep[]>> {
  const n = ctx.sizes.fanoutSubscribers
  const users = ctx.sizes.fanoutUsers
  return await interleavedSteps(ctx, TARGETS, (kind) => [
    ...specs(kind, 1, () => ({ user: 'publisher', rooms: ['FANOUT'], publisher: true })),
    ...specs(kind, n, (i) => ({ user: `subscriber-${i % users}`, rooms: ['FANOUT'], record: true }))
  ], ctx.sizes.fanoutCpuRate, n, `fan-out to ${n}`)
}

export async function fanout (ctx: Context): Promise<ScenarioOutput> {
  const series: Record<string, LatencyStep[]> = {}
  for (const kind of TARGETS) {
    const server = await start(ctx, kind)
    try {
      series[kind] = await steppedFanout(ctx, kind, [server], ctx.sizes.fanoutRates, LABELS[kind])
    } finally {
      await closeAll(ctx)
      await server.stop()
    }
  }
  const cpu = await fanoutCpu(ctx)
  const ref = referenceRate(series)
  const first = ctx.sizes.fanoutRates[0]
  const at = (kind: string, rate: number) => stepAt(series[kind], rate)
  const pick = <K extends keyof LatencyStep>(rate: number, key: K): Array<[string, LatencyStep[K] | undefined]> =>
    TARGETS.map(kind => [kind, at(kind, rate)?.[key]])
  const fig = <K extends keyof LatencyStep>(key: string, label: string, unit: string, better: 'higher' | 'lower', rate: number, field: K) => {
    const [subject, ...baselines] = pick(rate, field) as Array<[string, number | null | undefined]>
    return figure(key, label, unit, better, subject, baselines)
  }
  const { reps, cpuStepMs, fanoutCpuRate } = ctx.sizes
  return {
    details: [
      `${ctx.sizes.fanoutSubscribers} subscribers in one room (roomwire: code room of seed 003, subscribers spread over ${ctx.sizes.fanoutUsers} users) + 1 publisher socket`,
      `publish rates ${ctx.sizes.fanoutRates.join(', ')} msg/s, ${ctx.sizes.stepMs / 1000} s each, stepped until p99 > ${P99_LIMIT_MS} ms, one server after the other; latency figures compared at ${ref} msg/s, the highest rate every server ran`,
      `per server CPU-second: all three servers up with their own subscribers, ${reps} interleaved repetitions (A B C, B C A, …) of ${cpuStepMs / 1000} s at ${fanoutCpuRate} msg/s; the ratio is the median of the per-repetition ratios, ± half their range`
    ],
    figures: [
      fig('fanout.deliveries', `deliveries/s at ${ref} msg/s`, 'deliveries/s', 'higher', ref, 'deliveriesPerSecond'),
      repeatedFigure('fanout.cpu', `deliveries per server CPU-second at ${fanoutCpuRate} msg/s (${reps} interleaved repetitions)`, 'deliveries/CPU-s', 'higher',
        ['roomwire', pickAll(cpu.roomwire, 'deliveriesPerServerCpuSecond')], TARGETS.slice(1).map(k => [k, pickAll(cpu[k], 'deliveriesPerServerCpuSecond')])),
      fig('fanout.p50', `p50 latency at ${ref} msg/s`, 'ms', 'lower', ref, 'p50Ms'),
      fig('fanout.p99', `p99 latency at ${ref} msg/s`, 'ms', 'lower', ref, 'p99Ms'),
      fig('fanout.p99.first', `p99 latency at ${first} msg/s`, 'ms', 'lower', first, 'p99Ms'),
      figure('fanout.max', `max sustained deliveries/s (p99 ≤ ${P99_LIMIT_MS} ms, none lost)`, 'deliveries/s', 'higher',
        ['roomwire', maxSustained(series.roomwire)], TARGETS.slice(1).map(k => [k, maxSustained(series[k])]))
    ],
    series
  }
}

/**
 * Many rooms of 10 members, one of each publishing (members hear it, the publisher too): every
 * server up at once, interleaved repetitions. With the run's PostgreSQL, roomwire runs a second
 * time on it: code rooms never touch the database, so the two differ only by PGlite being loaded
 * in the process or not.
 */
export async function manyRooms (ctx: Context): Promise<ScenarioOutput> {
  const { rooms, roomRate, reps, cpuStepMs } = ctx.sizes
  const onPg: Arm[] = ctx.databaseUrl ? [{ name: 'roomwire-pg', kind: 'roomwire', env: { DATABASE_URL: ctx.databaseUrl } }] : []
  // Socket i is member ⌊i / rooms⌋ of room i % rooms: publishers alternate between clients.
  const results = await interleavedSteps(ctx, [...TARGETS, ...onPg], (kind) => specs(kind, rooms * 10, (i) => ({
    user: `r${i % rooms}-m${Math.floor(i / rooms)}`, rooms: [`R${i % rooms}`], publisher: i < rooms, record: true
  })), roomRate, 10, `${rooms} rooms of 10`)
  const fig = (key: keyof LatencyStep, label: string, unit: string, better: 'higher' | 'lower') => repeatedFigure(
    `rooms.${key}`, label, unit, better, ['roomwire', pickAll(results.roomwire, key)],
    TARGETS.slice(1).map(k => [k, pickAll(results[k], key)]))
  return {
    details: [
      `${rooms} rooms × 10 members (distinct users), one publisher per room at ${roomRate} msg/s (${rooms * roomRate} msg/s in all); every member records, the publisher too`,
      `all ${TARGETS.length + onPg.length} servers up with their own sockets, ${reps} interleaved repetitions (A B C, B C A, …) of ${cpuStepMs / 1000} s; each value the median of its repetitions, each ratio the median of the per-repetition ratios ± half their range`,
      onPg.length > 0
        ? 'roomwire on PGlite (the embedded default) and again on the run\'s PostgreSQL: code rooms never query the database, so `rooms.pg.*` shows what PGlite loaded in the process costs'
        : 'DATABASE_URL unset: roomwire on PGlite only (no `rooms.pg.*` figures)'
    ],
    figures: [
      fig('deliveriesPerSecond', 'deliveries/s', 'deliveries/s', 'higher'),
      fig('deliveriesPerServerCpuSecond', 'deliveries per server CPU-second', 'deliveries/CPU-s', 'higher'),
      fig('p50Ms', 'p50 latency', 'ms', 'lower'),
      fig('p99Ms', 'p99 latency', 'ms', 'lower'),
      ...(results['roomwire-pg']
        ? [repeatedFigure('rooms.pg.deliveriesPerServerCpuSecond', 'deliveries per server CPU-second, roomwire on PostgreSQL (no PGlite in the process)',
            'deliveries/CPU-s', 'higher', ['roomwire-pg', pickAll(results['roomwire-pg'], 'deliveriesPerServerCpuSecond')],
            [['bare-socketio', pickAll(results['bare-socketio'], 'deliveriesPerServerCpuSecond')], ['roomwire', pickAll(results.roomwire, 'deliveriesPerServerCpuSecond')]])]
        : [])
    ]
  }
}
