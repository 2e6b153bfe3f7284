import { Redis } from 'ioredis'
import { createMemoryStore } from './memory.js'
import { createRedisStore } from './redis.js'
import type { Store } from './types.js'

export type { Script, ScriptReply, Store, SyncOps } from './types.js'
export { createMemoryStore } from './memory.js'
export { createRedisStore } from './redis.js'

export interface CreateStoreOptions {
  /** Unset → the in-process store (embedded mode). */
  redisUrl?: string
  prefix?: string
  /** How long the first connection may take before start-up fails (default 5 s). */
  connectTimeoutMs?: number
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
  /** Connection errors after start-up (reconnects are automatic); a logger, typically. */
  onError?: (err: Error) => void
}

/** Opens a Redis connection and checks it answers; rejects, saying why, when Redis is unreachable. */
export async function connectRedis (options: ConnectRedisOptions): Promise<Redis> {
  const { redisUrl, connectTimeoutMs = 5000, onError } = options
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    // Fail a command promptly while Redis is down instead of queueing it until it is back:
    // a socket event should get an error now, not hang; reconnects still happen by themselves.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false
  })
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
  return redis
}

/** Connects the store the configuration asks for; rejects, saying why, when Redis is unreachable. */
export async function createStore (options: CreateStoreOptions = {}): Promise<Store> {
  const { redisUrl, prefix = '', connectTimeoutMs, onError } = options
  if (redisUrl === undefined || redisUrl === '') return createMemoryStore({ prefix })
  const redis = await connectRedis({ redisUrl, connectTimeoutMs, onError })
  return createRedisStore({ redis, prefix, ownsClient: true })
}
