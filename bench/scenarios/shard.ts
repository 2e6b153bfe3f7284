import type { ServerHandle } from '../lib/proc.js'
import { startRedisCluster, type RedisCluster } from '../lib/redis-cluster.js'
import type { LatencyStep } from '../lib/types.js'
import { closeAll, figure, interleaved, protocolOf, quiet, repeatedFigure, round, runStep, specs, start, type Context } from './common.js'
import { pickAll } from './fanout.js'
import type { ScenarioOutput } from './index.js'

const MEMORY = 'in-memory adapter, 1 instance'
const STREAMS = 'Redis Streams adapter, 1 instance'
const sharded = (n: number) => `sharded adapter, ${n} instance${n === 1 ? '' : 's'}`
const onCluster = (n: number) => `sharded adapter on a Redis Cluster, ${n} instance${n === 1 ? '' : 's'}`
/** The single-Redis arm measured beside the cluster's (its own instances, interleaved with it). */
const besideCluster = (n: number) => `${sharded(n)}, beside the cluster`
const SIZES = [1, 2, 4]

/** A counter's value in a Prometheus text exposition (summed over its labels). */
function counter (text: string, name: string): number {
  let sum = 0
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  return sum
}

async function adapterCounts (server: ServerHandle): Promise<{ received: number, published: number }> {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  return { received: counter(text, 'roomwire_adapter_messages_received_total'), published: counter(text, 'roomwire_adapter_messages_published_total') }
}

/**
 * The scenario's rooms of 10 on these servers, room r's members all on server r mod N, spread
 * over the client processes; `group` tags the sockets (a publish of that group only).
 */
async function connectRooms (ctx: Context, servers: ServerHandle[], group?: string): Promise<void> {
  const { rooms } = ctx.sizes
  const sockets = specs('roomwire', rooms * 10, (i) => ({
    user: `r${i % rooms}-m${Math.floor(i / rooms)}`, rooms: [`S${i % rooms}`], publisher: i < rooms, record: true, ...(group ? { group } : {})
  }))
  await Promise.all(servers.map(async (server, s) => {
    const mine = sockets.filter((_, i) => (i % rooms) % servers.length === s)
    await Promise.all(ctx.clients.map((client, c) => client.request('connect', {
      protocol: protocolOf('roomwire'), url: server.url, sockets: mine.filter((_, k) => k % ctx.clients.length === c), concurrency: 50, vocabulary: 'code'
    })))
  }))
}

/** Each server's share of all messages these servers published, between two readings. */
function sharesOf (before: Array<{ received: number, published: number }>, after: Array<{ received: number, published: number }>): number[] | undefined {
  const published = after.reduce((n, a, i) => n + a.published - before[i].published, 0)
  return published > 0 ? after.map((a, i) => round((a.received - before[i].received) / published, 3)) : undefined
}

interface Arm { name: string, envs: Array<Record<string, string>> }

/**
 * Two arms of N instances each (single Redis and the Redis Cluster) up at once, each with the
 * scenario's rooms, then `reps` interleaved repetitions at the same rate (A B, B A, …): a drift
 * of the machine's load hits both arms of a repetition alike. Each arm's steps, and its shares
 * over all its repetitions.
 */
async function interleavedArms (ctx: Context, arms: Arm[]): Promise<{ steps: Record<string, LatencyStep[]>, shares: Record<string, number[] | undefined> }> {
  const servers: ServerHandle[][] = arms.map(() => [])
  try {
    for (const [a, arm] of arms.entries()) {
      // One after the other: the first applies the migrations.
      for (const env of arm.envs) servers[a].push(await start(ctx, 'roomwire', env))
      ctx.progress.step(`${arm.name}: ${ctx.sizes.rooms} rooms of 10 joining`)
      await connectRooms(ctx, servers[a], arm.name)
    }
    await quiet(servers.flat())
    const before = await Promise.all(servers.map(list => Promise.all(list.map(adapterCounts))))
    const { reps, cpuStepMs, roomRate } = ctx.sizes
    const steps = await interleaved(reps, arms.map((arm, a) => ({
      name: arm.name,
      run: async (rep: number) => {
        ctx.progress.step(`${arm.name}: ${roomRate} msg/s per room, repetition ${rep + 1}/${reps}`)
        const { publish: _p, ...step } = await runStep(ctx, servers[a], roomRate, 10, { group: arm.name, durationMs: cpuStepMs })
        return step
      }
    })))
    const after = await Promise.all(servers.map(list => Promise.all(list.map(adapterCounts))))
    return { steps, shares: Object.fromEntries(arms.map((arm, a) => [arm.name, sharesOf(before[a], after[a])])) }
  } finally {
    await closeAll(ctx)
    await Promise.all(servers.flat().map(s => s.stop()))
  }
}

/**
 * Rooms of 10 spread over the instances (room r's members all on instance r mod N), one
 * publisher per room: each message is published once and should reach only the instance that
 * has the room's members. Per instance: the share of all published messages it received (issue
 * 18's goal: ≤ 1/N + 10 %), and deliveries per server CPU-second against the Redis Streams
 * adapter (every instance reads every message of `/`) and the in-memory adapter, same rate.
 * Then, per N, N instances on a Redis Cluster beside N on single Redis, interleaved: the
 * cluster's shares, and its deliveries per server CPU-second against single Redis (issue 18's
 * goal: ≥ 0.85×).
 */
export async function shardedFanout (ctx: Context): Promise<ScenarioOutput> {
  const { rooms, roomRate, reps, cpuStepMs } = ctx.sizes
  const base = { DATABASE_URL: ctx.databaseUrl! }
  const redis = (name: string, extra: Record<string, string> = {}) => ({ ...base, REDIS_URL: ctx.redisUrl!, REDIS_KEY_PREFIX: `${ctx.redisPrefix}shard-${name}:`, ...extra })
  // A 3-master Redis Cluster of the scenario's own (redis-server and redis-cli from PATH), removed at its end.
  const teardowns: Array<() => unknown> = []
  let cluster: RedisCluster | null = null
  let clusterSkipped = ''
  try {
    cluster = await startRedisCluster({ teardown: (fn) => { teardowns.push(fn) } })
  } catch (err) {
    clusterSkipped = `no Redis Cluster (${(err as Error).message.split('\n')[0]}): its variants are not measured`
  }
  const onNodes = (nodes: string, name: string) => ({ ...base, REDIS_CLUSTER_NODES: nodes, REDIS_KEY_PREFIX: `${ctx.redisPrefix}shard-${name}:` })
  const variants: Array<[string, Array<Record<string, string>>]> = [
    [MEMORY, [base]],
    [STREAMS, [redis('streams', { BENCH_SOCKET_ADAPTER: 'streams' })]],
    ...SIZES.map((n): [string, Array<Record<string, string>>] => [sharded(n), Array.from({ length: n }, () => redis(`s${n}`))])
  ]
  const steps: Record<string, LatencyStep> = {}
  const shares: Record<string, number[] | undefined> = {}
  // The interleaved arms' steps, repetition by repetition (besideCluster(n) and onCluster(n)).
  const repeated: Record<string, LatencyStep[]> = {}
  try {
    for (const [name, envs] of variants) {
      const servers: ServerHandle[] = []
      try {
        // One after the other: the first applies the migrations.
        for (const env of envs) servers.push(await start(ctx, 'roomwire', env))
        ctx.progress.step(`${name}: ${rooms} rooms of 10 joining`)
        await connectRooms(ctx, servers)
        await quiet(servers)
        const before = await Promise.all(servers.map(adapterCounts))
        ctx.progress.step(`${name}: ${rooms} rooms × ${roomRate} msg/s`)
        const { publish: _p, ...step } = await runStep(ctx, servers, roomRate, 10)
        steps[name] = step
        shares[name] = sharesOf(before, await Promise.all(servers.map(adapterCounts)))
      } finally {
        await closeAll(ctx)
        await Promise.all(servers.map(s => s.stop()))
      }
    }
    if (cluster !== null) {
      for (const n of SIZES) {
        const result = await interleavedArms(ctx, [
          { name: besideCluster(n), envs: Array.from({ length: n }, () => redis(`i${n}`)) },
          { name: onCluster(n), envs: Array.from({ length: n }, () => onNodes(cluster.nodes, `c${n}`)) }
        ])
        Object.assign(repeated, result.steps)
        shares[onCluster(n)] = result.shares[onCluster(n)]
      }
    }
  } finally {
    for (const teardown of teardowns) await teardown()
  }
  const cpu = (name: string) => steps[name]?.deliveriesPerServerCpuSecond ?? null
  const largestShare = (name: string) => shares[name] === undefined ? null : Math.max(...shares[name])
  const figures = [
    ...[2, 4].map(n => figure(`shard.share.${n}`, `${sharded(n)}: largest share of all published messages one instance received (goal ≤ ${round(1 / n + 0.1, 2)})`, 'share', 'lower',
      [sharded(n), largestShare(sharded(n))], [[sharded(1), shares[sharded(1)]?.[0] ?? null]])),
    ...SIZES.map(n => figure(`shard.cpu.${n}`, `${sharded(n)}: deliveries per server CPU-second at ${roomRate} msg/s per room`, 'deliveries/CPU-s', 'higher',
      [sharded(n), cpu(sharded(n))], [[STREAMS, cpu(STREAMS)], [MEMORY, cpu(MEMORY)]])),
    ...(cluster === null
      ? []
      : [
          ...[2, 4].map(n => figure(`shard.cluster.share.${n}`, `${onCluster(n)}: largest share of all published messages one instance received (goal ≤ ${round(1 / n + 0.1, 2)})`, 'share', 'lower',
            [onCluster(n), largestShare(onCluster(n))], [[onCluster(1), shares[onCluster(1)]?.[0] ?? null]])),
          ...SIZES.map(n => repeatedFigure(`shard.cluster.cpu.${n}`, `${onCluster(n)}: deliveries per server CPU-second at ${roomRate} msg/s per room (${reps} interleaved repetitions)`, 'deliveries/CPU-s', 'higher',
            [onCluster(n), pickAll(repeated[onCluster(n)], 'deliveriesPerServerCpuSecond')], [[sharded(n), pickAll(repeated[besideCluster(n)], 'deliveriesPerServerCpuSecond')]]))
        ])
  ]
  const series: Record<string, LatencyStep[]> = { ...Object.fromEntries(Object.entries(steps).map(([k, s]) => [k, [s]])), ...repeated }
  return {
    details: [
      `${rooms} rooms × 10 members (distinct users), one publisher per room at ${roomRate} msg/s; room r's members on instance r mod N; PostgreSQL shared`,
      `the in-memory, Redis Streams and sharded adapters: one variant after the other, one step of ${ctx.sizes.stepMs / 1000} s each`,
      `share: messages an instance received from Redis (roomwire_adapter_messages_received_total) over all messages the instances published (roomwire_adapter_messages_published_total): ${Object.entries(shares).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v!.join(', ')}`).join('; ')}`,
      "server CPU is the sum of the instances'; Redis' own CPU is not counted",
      cluster === null
        ? clusterSkipped
        : `Redis Cluster: 3 masters, no replicas, started for this scenario (ports ${cluster.ports.join(', ')}); each instance's REDIS_CLUSTER_NODES lists every node; per N, N instances on the cluster and N on single Redis up at once with their own rooms, ${reps} interleaved repetitions (A B, B A, …) of ${cpuStepMs / 1000} s; each ratio the median of the per-repetition ratios ± half their range, the cluster's shares over all its repetitions`
    ],
    figures,
    series
  }
}
