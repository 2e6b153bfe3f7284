import type { ServerHandle } from '../lib/proc.js'
import type { LatencyStep } from '../lib/types.js'
import { figure, repeatedFigure, specs, start, type Context } from './common.js'
import { interleavedSteps, maxSustained, pickAll, referenceRate, stepAt, steppedFanout } from './fanout.js'
import type { ScenarioOutput } from './index.js'

const MEMORY = 'in-memory adapter'
const ONE = 'Redis (sharded adapter), 1 instance'
const TWO = 'Redis (sharded adapter), 2 instances'

/**
 * The fan-out of one room through roomwire's adapters, all on the run's PostgreSQL database:
 * in-memory (no REDIS_URL), Redis (the sharded adapter, src/socket/adapter/) on one instance, and on two instances with the
 * subscribers split between them (the publisher on the first). Redis' own CPU is not counted.
 */
export async function redisAdapter (ctx: Context): Promise<ScenarioOutput> {
  const rates = ctx.sizes.redisRates
  const base = { DATABASE_URL: ctx.databaseUrl! }
  const redis = (name: string) => ({ ...base, REDIS_URL: ctx.redisUrl!, REDIS_KEY_PREFIX: `${ctx.redisPrefix}${name}:` })
  const series: Record<string, LatencyStep[]> = {}
  const variants: Array<[string, Array<Record<string, string>>]> = [
    [MEMORY, [base]],
    [ONE, [redis('one')]],
    [TWO, [redis('two'), redis('two')]]
  ]
  for (const [name, envs] of variants) {
    const servers: ServerHandle[] = []
    try {
      // One after the other: the first applies the migrations.
      for (const env of envs) servers.push(await start(ctx, 'roomwire', env))
      series[name] = await steppedFanout(ctx, 'roomwire', servers, rates, name)
    } finally {
      await Promise.all(servers.map(s => s.stop()))
    }
  }
  // The same rate for both, below what the machine can carry (the stepped series end where the
  // server and its load clients saturate its cores, and a figure there measures the machine):
  // the in-memory and the Redis instance up at once, their steps interleaved.
  const n = ctx.sizes.fanoutSubscribers
  const users = ctx.sizes.fanoutUsers
  const rate = ctx.sizes.fanoutCpuRate
  const same = await interleavedSteps(ctx, [{ name: MEMORY, kind: 'roomwire', env: base }, { name: ONE, kind: 'roomwire', env: redis('interleaved') }], (kind) => [
    ...specs(kind, 1, () => ({ user: 'publisher', rooms: ['FANOUT'], publisher: true })),
    ...specs(kind, n, (i) => ({ user: `subscriber-${i % users}`, rooms: ['FANOUT'], record: true }))
  ], rate, n, `fan-out to ${n}`)
  const { reps, cpuStepMs } = ctx.sizes
  const ref = referenceRate(series)
  const at = (name: string, key: keyof LatencyStep) => stepAt(series[name], ref)?.[key] as number | null | undefined
  const figures = [ONE, TWO].flatMap((subject) => [
    figure(`redis.deliveries.${subject === ONE ? 1 : 2}`, `${subject}: deliveries/s at ${ref} msg/s`, 'deliveries/s', 'higher',
      [subject, at(subject, 'deliveriesPerSecond')], [[MEMORY, at(MEMORY, 'deliveriesPerSecond')]]),
    figure(`redis.max.${subject === ONE ? 1 : 2}`, `${subject}: max sustained deliveries/s`, 'deliveries/s', 'higher',
      [subject, maxSustained(series[subject])], [[MEMORY, maxSustained(series[MEMORY])]]),
    figure(`redis.cpu.${subject === ONE ? 1 : 2}`, `${subject}: deliveries per server CPU-second at ${ref} msg/s`, 'deliveries/CPU-s', 'higher',
      [subject, at(subject, 'deliveriesPerServerCpuSecond')], [[MEMORY, at(MEMORY, 'deliveriesPerServerCpuSecond')]]),
    figure(`redis.p99.${subject === ONE ? 1 : 2}`, `${subject}: p99 latency at ${ref} msg/s`, 'ms', 'lower',
      [subject, at(subject, 'p99Ms')], [[MEMORY, at(MEMORY, 'p99Ms')]])
  ])
  figures.unshift(
    repeatedFigure('redis.same.deliveries.1', `${ONE}: deliveries/s at ${rate} msg/s (${reps} interleaved repetitions)`, 'deliveries/s', 'higher',
      [ONE, pickAll(same[ONE], 'deliveriesPerSecond')], [[MEMORY, pickAll(same[MEMORY], 'deliveriesPerSecond')]]),
    repeatedFigure('redis.same.cpu.1', `${ONE}: deliveries per server CPU-second at ${rate} msg/s (${reps} interleaved repetitions)`, 'deliveries/CPU-s', 'higher',
      [ONE, pickAll(same[ONE], 'deliveriesPerServerCpuSecond')], [[MEMORY, pickAll(same[MEMORY], 'deliveriesPerServerCpuSecond')]]),
    repeatedFigure('redis.same.p99.1', `${ONE}: p99 latency at ${rate} msg/s (${reps} interleaved repetitions)`, 'ms', 'lower',
      [ONE, pickAll(same[ONE], 'p99Ms')], [[MEMORY, pickAll(same[MEMORY], 'p99Ms')]])
  )
  return {
    details: [
      `roomwire on PostgreSQL; ${ctx.sizes.fanoutSubscribers} subscribers in one code room + 1 publisher; rates ${rates.join(', ')} msg/s, ${ctx.sizes.stepMs / 1000} s each, until p99 > 100 ms`,
      `2 instances: client process i connects to instance i mod 2 (the publisher to the first); server CPU is the sum of both; Redis' own CPU is not counted; figures compared at ${ref} msg/s`,
      `at the same rate: the in-memory and a Redis instance up at once with their own subscribers, ${reps} interleaved repetitions (A B, B A, …) of ${cpuStepMs / 1000} s at ${rate} msg/s; each ratio the median of the per-repetition ratios ± half their range`
    ],
    figures,
    series
  }
}
