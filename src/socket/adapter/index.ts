/**
 * The Socket.IO adapter roomwire runs with Redis (single Redis or Redis Cluster): per-room sharded
 * fan-out with connection state recovery on any instance (sharded-adapter.ts). One subscriber
 * connection per server (per master on a cluster), shared by every namespace.
 */
import { Cluster, type Redis } from 'ioredis'
import type { Namespace, Server, ServerOptions } from 'socket.io'
import type { RedisClient } from './restore.js'
import { publishKept, type WithPublishKept } from './scripts.js'
import { ShardedAdapter, type ShardedAdapterOptions } from './sharded-adapter.js'
import { createSubscriptions, type FanoutStats } from './subscriptions.js'

export type { FanoutStats } from './subscriptions.js'
export { ShardedAdapter } from './sharded-adapter.js'

export interface ShardedFanoutOptions extends Partial<Omit<ShardedAdapterOptions, 'prefix'>> {
  prefix: string
  onError?: (err: unknown) => void
}

const statsByServer = new WeakMap<Server, FanoutStats>()

/** What this server's adapters published and received through Redis (the metrics plugin reads it). */
export function fanoutStatsOf (io: Server): FanoutStats | undefined {
  return statsByServer.get(io)
}

/**
 * The adapter constructor for `new Server({ adapter })`, and `close()` for the subscriber it
 * opened (the publishing `client` is the caller's, which it closes after `io.close()`).
 */
export function createShardedFanout (client: RedisClient, options: ShardedFanoutOptions) {
  const onError = options.onError ?? (() => {})
  const subscriber: RedisClient = client.isCluster
    ? (client as Cluster).duplicate(undefined, { shardedSubscribers: true })
    : (client as Redis).duplicate()
  subscriber.on('error', onError)
  client.defineCommand('roomwirePublishKept', publishKept)
  const subscriptions = createSubscriptions(subscriber, onError)
  const stats: FanoutStats = { received: { room: 0, namespace: 0 }, published: 0, filled: 0 }
  const adapterOptions: ShardedAdapterOptions = {
    prefix: options.prefix,
    maxPerRoom: options.maxPerRoom ?? 1_000,
    recentPerRoom: options.recentPerRoom ?? 16,
    recentPerSession: options.recentPerSession ?? 64,
    ...(options.instanceId === undefined ? {} : { instanceId: options.instanceId }),
    ...(options.echoWaitMs === undefined ? {} : { echoWaitMs: options.echoWaitMs })
  }
  // Socket.IO calls it with `new`: a function returning the adapter, not an arrow function.
  const adapter = function (nsp: Namespace) {
    statsByServer.set(nsp.server, stats)
    return new ShardedAdapter(nsp, client as RedisClient & WithPublishKept, subscriptions, stats, adapterOptions)
  } as unknown as NonNullable<ServerOptions['adapter']>
  return {
    adapter,
    stats,
    subscriptions,
    async close (): Promise<void> {
      subscriptions.close()
      await subscriber.quit().catch(() => { subscriber.disconnect() })
    }
  }
}
