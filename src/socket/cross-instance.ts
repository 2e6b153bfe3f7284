import { Cluster, Redis, type RedisOptions } from 'ioredis'
import type { ServerOptions } from 'socket.io'
import { parseClusterNodes, type Config } from '../config.js'
import { clusterClientOptions, isCluster, type RedisClient } from '../store/cluster.js'
import { createShardedFanout } from './adapter/index.js'

type Log = (obj: { err: unknown }, msg: string) => void

export interface CrossInstanceOptions {
  /** How long a kept broadcast is retried while its room log's master fails over (Redis Cluster); default 20 s. */
  failoverRetryMs?: number
  /** Broadcasts waiting for a failover at most; more fail at once (and reach this instance's sockets only). */
  failoverBacklog?: number
  /** This server's instance id: broadcasts to sockets known to be on it (`user:status` to watchers) reach it alone. */
  instanceId?: string
}

export interface CrossInstanceAdapter {
  adapter: NonNullable<ServerOptions['adapter']>
  /** After io.close(): quit, not disconnect, so the sessions the drain's closed transports persisted are written first. */
  close: () => Promise<void>
}

/**
 * The one place that chooses how broadcasts and connection state recovery cross instances:
 * null without Redis (Socket.IO's in-memory adapter then), else roomwire's sharded adapter
 * (src/socket/adapter/: a channel per room subscribed while it has local members, recovery from
 * per-room logs) on a client of its own, a Redis or, with REDIS_CLUSTER_NODES, a Cluster.
 */
export async function crossInstanceAdapter (config: Config, log: Log, options: CrossInstanceOptions = {}): Promise<CrossInstanceAdapter | null> {
  const client = adapterClient(config)
  if (client === null) return null
  client.on('error', (err) => { log({ err }, 'socket.io adapter redis error') })
  await client.connect()
  const fanout = createShardedFanout(client, {
    // A hash tag in the prefix would put every room's channel and log in one slot (CONTRACT §12).
    prefix: config.redisKeyPrefix.replace(/[{}]/g, ''),
    // Each room's log is bounded (Redis trims ~ the oldest) and kept maxDisconnectionDuration.
    maxPerRoom: config.recoveryMaxPackets,
    ...(options.instanceId === undefined ? {} : { instanceId: options.instanceId }),
    onError: (err) => { log({ err }, 'socket.io adapter redis error') }
  })
  if (isCluster(client)) {
    // A room log's master failing over: the kept broadcast waits for the promoted replica, in order.
    const kept = client as unknown as { roomwirePublishKept: (...args: unknown[]) => Promise<unknown> }
    const publish = kept.roomwirePublishKept.bind(client)
    const retrying = orderedRetry(publish, options.failoverRetryMs ?? 20_000, options.failoverBacklog ?? config.recoveryMaxPackets)
    kept.roomwirePublishKept = (...args: unknown[]) => retrying(args)
  }
  return {
    adapter: fanout.adapter,
    close: async () => {
      await fanout.close()
      await client.quit().catch(() => { client.disconnect() })
    }
  }
}

/**
 * A client of its own: the adapter blocks on XREAD. While Redis is down its commands wait for a
 * reconnect, but are rejected after two attempts instead of queueing without bound (a socket
 * event that broadcasts must answer, not hang); commandTimeout (REDIS_COMMAND_TIMEOUT_MS) fails
 * a broadcast on a hung Redis instead of holding it. Named, so that CLIENT LIST tells it from
 * the store's. The adapter awaits its duplicates' connect and SUBSCRIBE without a catch, so the
 * duplicates (the subscriber and the stream reader) have no command timeout, the reader's
 * blocking XREAD a blocking timeout instead (null on a dead connection).
 */
function adapterClient (config: Config): RedisClient | null {
  const commandTimeout = config.redisCommandTimeoutMs
  const connectionName = `${config.redisKeyPrefix}socket.io`
  const own: RedisOptions = { maxRetriesPerRequest: 2, commandTimeout, connectionName }
  const duplicates: RedisOptions = { ...own, commandTimeout: undefined, blockingTimeout: commandTimeout }
  if (config.redisClusterNodes !== undefined && config.redisClusterNodes !== '') {
    // The offline queue stays on (as for one Redis): a command meeting a failover waits for the new master.
    const { enableOfflineQueue: _failFast, ...shared } = clusterClientOptions(commandTimeout, config.redisClusterSlotsRefreshMs)
    const cluster = new Cluster(parseClusterNodes(config.redisClusterNodes), { ...shared, lazyConnect: true, redisOptions: own })
    const duplicate = cluster.duplicate.bind(cluster)
    cluster.duplicate = ((nodes?: Parameters<Cluster['duplicate']>[0], overrides: Parameters<Cluster['duplicate']>[1] = {}) =>
      duplicate(nodes, { ...overrides, redisOptions: { ...duplicates, ...overrides.redisOptions } })) as Cluster['duplicate']
    return cluster
  }
  if (config.redisUrl === undefined || config.redisUrl === '') return null
  const redis = new Redis(config.redisUrl, { lazyConnect: true, ...own })
  const duplicate = redis.duplicate.bind(redis)
  redis.duplicate = (override?: Partial<RedisOptions>) => duplicate({ ...override, ...duplicates })
  return redis
}

interface Waiting<T> { ticket: number, args: unknown[], since: number, resolve: (value: T) => void, reject: (err: unknown) => void }

const pause = async (ms: number) => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * A broadcast's XADD, retried in order while its stream's master is down (a Redis Cluster
 * failover: until its replica is promoted, every command to the slot fails). The adapter
 * (socket.io-adapter's ClusterAdapter) drops a broadcast whose XADD fails, even for this
 * instance's own sockets, while the message was already acknowledged and stored: so a failed
 * XADD is tried again every `delayMs` for `windowMs`, and every XADD after it waits its turn
 * (by the order they were called in), so that the stream keeps the order of the messages.
 * Sent directly again, pipelined, once none waits.
 */
export function orderedRetry<T> (send: (...args: unknown[]) => Promise<T>, windowMs: number, maxBacklog: number, delayMs = 100) {
  let tickets = 0
  /** Direct sends not answered yet: one of them may still fail, and then goes before later ones. */
  const unanswered = new Set<number>()
  const waiting: Array<Waiting<T>> = []
  let draining = false
  /** The one being retried now, besides those waiting. */
  let retrying = 0

  async function drain (): Promise<void> {
    if (draining) return
    draining = true
    while (waiting.length > 0) {
      const job = waiting[0]
      if ([...unanswered].some(ticket => ticket < job.ticket)) {
        await pause(delayMs)
        continue
      }
      waiting.shift()
      retrying = 1
      for (;;) {
        try {
          job.resolve(await send(...job.args))
          break
        } catch (err) {
          if (Date.now() - job.since >= windowMs) {
            job.reject(err)
            break
          }
          await pause(delayMs)
        }
      }
      retrying = 0
    }
    draining = false
  }

  function wait (ticket: number, args: unknown[], since: number, failure?: unknown): Promise<T> {
    if (waiting.length + retrying >= maxBacklog) return Promise.reject(failure ?? new Error('too many broadcasts waiting for a Redis failover'))
    return new Promise<T>((resolve, reject) => {
      let at = waiting.length
      while (at > 0 && waiting[at - 1].ticket > ticket) at--
      waiting.splice(at, 0, { ticket, args, since, resolve, reject })
      drain().catch(() => {})
    })
  }

  return (args: unknown[]): Promise<T> => {
    const ticket = tickets++
    if (waiting.length > 0 || draining) return wait(ticket, args, Date.now())
    unanswered.add(ticket)
    const since = Date.now()
    return send(...args).then((reply) => {
      unanswered.delete(ticket)
      return reply
    }, async (err: unknown) => {
      unanswered.delete(ticket)
      return await wait(ticket, args, since, err)
    })
  }
}
