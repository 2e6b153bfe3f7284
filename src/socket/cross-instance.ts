import { Cluster, Redis, type RedisOptions } from 'ioredis'
import type { ServerOptions } from 'socket.io'
import { parseClusterNodes, type Config } from '../config.js'
import { clusterClientOptions, type RedisClient } from '../store/cluster.js'
import { adapterKeys } from '../store/keys.js'
import { closableStreamsAdapter } from './workarounds.js'

type Log = (obj: { err: unknown }, msg: string) => void

export interface CrossInstanceAdapter {
  adapter: NonNullable<ServerOptions['adapter']>
  /** After io.close(): quit, not disconnect, so the sessions the drain's closed transports persisted are written first. */
  close: () => Promise<void>
}

/**
 * The one place that chooses how broadcasts and connection state recovery cross instances
 * (the seam a sharded adapter replaces): null without Redis (Socket.IO's in-memory adapter
 * then), else the Redis Streams adapter on a client of its own (a Redis, or a Cluster with
 * REDIS_CLUSTER_NODES), its stream, channels and session keys named by adapterKeys.
 */
export async function crossInstanceAdapter (config: Config, log: Log): Promise<CrossInstanceAdapter | null> {
  const client = adapterClient(config)
  if (client === null) return null
  client.on('error', (err) => { log({ err }, 'socket.io adapter redis error') })
  const publish = client.publish.bind(client) as (...args: unknown[]) => Promise<number>
  // The adapter awaits its PUBLISH without a catch: a timeout there would be an unhandled rejection (a crash).
  client.publish = ((...args: unknown[]) => {
    const sent = publish(...args)
    sent.catch((err: unknown) => { log({ err }, 'socket.io adapter publish failed') })
    return sent
  }) as Redis['publish']
  await client.connect()
  const adapter = closableStreamsAdapter(client, {
    ...adapterKeys(config.redisKeyPrefix),
    // The stream all namespaces share is what recovery replays from: bounded (Redis trims ~ the oldest).
    maxLen: config.recoveryMaxPackets
  })
  return {
    adapter: adapter as NonNullable<ServerOptions['adapter']>,
    close: async () => { await client.quit().catch(() => { client.disconnect() }) }
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
    const { enableOfflineQueue: _failFast, ...shared } = clusterClientOptions(commandTimeout)
    const cluster = new Cluster(parseClusterNodes(config.redisClusterNodes), { ...shared, lazyConnect: true, redisOptions: own })
    const duplicate = cluster.duplicate.bind(cluster)
    cluster.duplicate = ((nodes?: Parameters<Cluster['duplicate']>[0]) => duplicate(nodes, { redisOptions: duplicates })) as Cluster['duplicate']
    return cluster
  }
  if (config.redisUrl === undefined || config.redisUrl === '') return null
  const redis = new Redis(config.redisUrl, { lazyConnect: true, ...own })
  const duplicate = redis.duplicate.bind(redis)
  redis.duplicate = (override?: Partial<RedisOptions>) => duplicate({ ...override, ...duplicates })
  return redis
}
