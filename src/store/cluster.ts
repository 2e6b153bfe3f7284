import { Cluster, type ClusterOptions, type Redis } from 'ioredis'
import type { ClusterNode } from '../config.js'

/** What the store, the limiters and @fastify/rate-limit are handed: one Redis or a Redis Cluster. */
export type RedisClient = Redis | Cluster

export function isCluster (client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true
}

export interface ConnectClusterOptions {
  nodes: ClusterNode[]
  /** How long the first connection (slots discovered, every master reachable) may take; default 5 s. */
  connectTimeoutMs?: number
  /** REDIS_COMMAND_TIMEOUT_MS, for every command on every node; default 2 s. */
  commandTimeoutMs?: number
  /** REDIS_CLUSTER_SLOTS_REFRESH_MS: the slot map is read this often besides on MOVED; default 5 s. */
  slotsRefreshMs?: number
  /** Connection errors after start-up (reconnects are automatic); a logger, typically. */
  onError?: (err: Error) => void
}

/**
 * The Cluster options every client of roomwire's shares, as redisClientOptions for one Redis:
 * a command fails promptly while its node is unreachable instead of queueing, and a failover
 * (MOVED, CLUSTERDOWN, TRYAGAIN while a replica is promoted) is retried by ioredis itself
 * within the command timeout.
 */
export function clusterClientOptions (commandTimeoutMs = 2000, slotsRefreshMs = 5000): ClusterOptions {
  return {
    enableOfflineQueue: false,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    // A promoted replica is found by the next refresh even when no command meets a MOVED (or a
    // closed connection, which refreshes too). Each refresh opens a connection, reads CLUSTER
    // SLOTS and rebuilds the 16,384-slot map (and the sharded subscribers' copy): every second,
    // for every client of every instance, it was a few percent of a busy instance's CPU.
    slotsRefreshInterval: slotsRefreshMs,
    redisOptions: { commandTimeout: commandTimeoutMs, maxRetriesPerRequest: 1 }
  }
}

export function describeNodes (nodes: ClusterNode[]): string {
  return nodes.map(n => n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`).join(',')
}

/** Opens an ioredis Cluster and checks it answers; rejects, saying why, when the cluster is unreachable or down. */
export async function connectCluster (options: ConnectClusterOptions): Promise<Cluster> {
  const { nodes, connectTimeoutMs = 5000, commandTimeoutMs, slotsRefreshMs, onError } = options
  const base = clusterClientOptions(commandTimeoutMs, slotsRefreshMs)
  const cluster = new Cluster(nodes, {
    ...base,
    lazyConnect: true,
    redisOptions: { ...base.redisOptions, connectTimeout: connectTimeoutMs }
  })
  let lastError: Error | null = null
  // As for one Redis: without a listener ioredis prints every failed reconnect.
  cluster.on('error', (err: Error) => {
    lastError = err
    onError?.(err)
  })
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs)
  })
  try {
    await Promise.race([cluster.connect(), timeout])
    // Every master must answer: a store whose slot sits on an unreachable one would fail later.
    await Promise.race([Promise.all(cluster.nodes('master').map(async node => await node.ping())), timeout])
  } catch (err) {
    cluster.disconnect()
    const cause = (lastError ?? err) as Error
    throw new Error(`Redis Cluster at ${describeNodes(nodes)} is not reachable: ${cause.message}`, { cause })
  } finally {
    clearTimeout(timer)
  }
  return cluster
}

/** Every key matching `match` on every master of the cluster (SCAN only walks the node it is sent to). */
export async function scanCluster (cluster: Cluster, match: string, count: number): Promise<string[]> {
  const found = new Set<string>()
  await Promise.all(cluster.nodes('master').map(async (node) => {
    let cursor = '0'
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', match, 'COUNT', count)
      for (const key of batch) found.add(key)
      cursor = next
    } while (cursor !== '0')
  }))
  return [...found]
}
