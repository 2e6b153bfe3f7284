import { Redis } from 'ioredis'
import { parseClusterNodes } from '../config.js'
import { connectCluster } from './cluster.js'
import { clusterStatePrefix } from './keys.js'
import { createMemoryStore } from './memory.js'
import { createRedisStore } from './redis.js'
import type { Store } from './types.js'

export type { Script, ScriptReply, Store, SyncOps } from './types.js'
export { createMemoryStore } from './memory.js'
export { createRedisStore } from './redis.js'
export { connectCluster, isCluster, type RedisClient } from './cluster.js'

export interface CreateStoreOptions {
  /** Unset (and no clusterNodes) → the in-process store (embedded mode). */
  redisUrl?: string
  /** REDIS_CLUSTER_NODES (`host:port,…`): the store on a Redis Cluster, its keys under the state hash tag. */
  clusterNodes?: string
  prefix?: string
  /** How long the first connection may take before start-up fails (default 5 s). */
  connectTimeoutMs?: number
  /** REDIS_COMMAND_TIMEOUT_MS (default 2 s). */
  commandTimeoutMs?: number
  /** Connection errors after start-up (reconnects are automatic); a logger, typically. */
  onError?: (err: Error) => void
}

/** The URL without its password, fit for an error message or a log line. */
export function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(invalid Redis URL)'
  }
}

export interface ConnectRedisOptions {
  redisUrl: string
  /** How long the first connection may take before start-up fails (default 5 s). */
  connectTimeoutMs?: number
  /** REDIS_COMMAND_TIMEOUT_MS: a command unanswered this long fails (a hung Redis); default 2 s. */
  commandTimeoutMs?: number
  /** Connection errors after start-up (reconnects are automatic); a logger, typically. */
  onError?: (err: Error) => void
}

/** What every Redis client roomwire opens shares: no command waits for a hung Redis for ever. */
export function redisClientOptions (commandTimeoutMs = 2000) {
  return {
    commandTimeout: commandTimeoutMs,
    // Fail a command promptly while Redis is down instead of queueing it until it is back:
    // a socket event should get an error now, not hang; reconnects still happen by themselves.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false
  }
}

/** Opens a Redis connection and checks it answers; rejects, saying why, when Redis is unreachable. */
export async function connectRedis (options: ConnectRedisOptions): Promise<Redis> {
  const { redisUrl, connectTimeoutMs = 5000, commandTimeoutMs, onError } = options
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: connectTimeoutMs, ...redisClientOptions(commandTimeoutMs) })
  let lastError: Error | null = null
  // ioredis prints every failed reconnect without a listener; errors reach callers through
  // commands and ping() anyway, so this listener only remembers and forwards them.
  redis.on('error', (err: Error) => {
    lastError = err
    onError?.(err)
  })

  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs)
  })
  try {
    await Promise.race([redis.connect(), timeout])
    await redis.ping()
  } catch (err) {
    redis.disconnect()
    // connect() only says "Connection is closed."; the error event carries the cause.
    const cause = (lastError ?? err) as Error
    throw new Error(`Redis at ${redactUrl(redisUrl)} is not reachable: ${cause.message}`, { cause })
  } finally {
    clearTimeout(timer)
  }
  // ioredis selects the URL's database on connect, but a refused SELECT (out of range) only
  // emits an error and stays on db 0: select again here so that the refusal stops the start.
  const database = redis.options.db ?? 0
  if (database !== 0) {
    await redis.select(database).catch((err: Error) => {
      redis.disconnect()
      throw new Error(`Redis at ${redactUrl(redisUrl)} refused database ${database} (${err.message}): use a number below the server's \`databases\` setting (16 by default)`, { cause: err })
    })
  }
  return redis
}

/** Connects the store the configuration asks for; rejects, saying why, when Redis is unreachable. */
export async function createStore (options: CreateStoreOptions = {}): Promise<Store> {
  const { redisUrl, clusterNodes, prefix = '', connectTimeoutMs, commandTimeoutMs, onError } = options
  if (clusterNodes !== undefined && clusterNodes !== '') {
    const cluster = await connectCluster({ nodes: parseClusterNodes(clusterNodes), connectTimeoutMs, commandTimeoutMs, onError })
    return createRedisStore({ redis: cluster, prefix: clusterStatePrefix(prefix), ownsClient: true })
  }
  if (redisUrl === undefined || redisUrl === '') return createMemoryStore({ prefix })
  const redis = await connectRedis({ redisUrl, connectTimeoutMs, commandTimeoutMs, onError })
  return createRedisStore({ redis, prefix, ownsClient: true })
}
