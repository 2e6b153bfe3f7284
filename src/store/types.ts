import type { RedisClient } from './cluster.js'

/**
 * The state store behind presence, limits and room state: an in-process implementation for
 * the embedded mode and a Redis one for many instances. Keys are logical names; every
 * implementation prefixes them with `prefix` (REDIS_KEY_PREFIX) itself.
 *
 * Operations that must be atomic across instances are `Script`s: the same logic written once
 * in Lua (run by Redis) and once in JavaScript (run synchronously by the memory store, which
 * makes it atomic there too).
 */
export interface Store {
  readonly kind: 'memory' | 'redis'
  readonly prefix: string
  /** The ioredis client (a Redis or a Cluster) when kind is 'redis' (rate-limiter-flexible takes it). */
  readonly redis: RedisClient | null

  get (key: string): Promise<string | null>
  set (key: string, value: string, options?: { ttlMs?: number, onlyIfAbsent?: boolean }): Promise<boolean>
  del (...keys: string[]): Promise<number>
  exists (key: string): Promise<boolean>
  pexpire (key: string, ttlMs: number): Promise<boolean>
  /** Remaining time to live in ms; -1 without expiry, -2 when missing (as Redis). */
  pttl (key: string): Promise<number>
  incrBy (key: string, by: number): Promise<number>

  sAdd (key: string, ...members: string[]): Promise<number>
  sRem (key: string, ...members: string[]): Promise<number>
  sMembers (key: string): Promise<string[]>
  sCard (key: string): Promise<number>
  sIsMember (key: string, member: string): Promise<boolean>

  hSet (key: string, fields: Record<string, string>): Promise<void>
  hGet (key: string, field: string): Promise<string | null>
  hGetAll (key: string): Promise<Record<string, string>>
  hDel (key: string, ...fields: string[]): Promise<number>
  hLen (key: string): Promise<number>

  zAdd (key: string, score: number, member: string): Promise<void>
  zRem (key: string, ...members: string[]): Promise<number>
  zScore (key: string, member: string): Promise<number | null>
  zRangeByScore (key: string, min: number, max: number): Promise<string[]>
  zCard (key: string): Promise<number>

  /** Logical keys (prefix removed) matching a glob pattern; for tests and maintenance only. */
  scan (pattern: string): Promise<string[]>

  /** Runs a script atomically. KEYS are prefixed by the store; ARGV[1] is always the prefix. */
  run (script: Script, keys: string[], args: Array<string | number>): Promise<ScriptReply>

  /**
   * Which server process answers (Redis' run_id; fixed for the memory store): it changes when
   * Redis restarted or failed over to a replica, which may have lost writes.
   */
  serverId (): Promise<string>

  /** Resolves when the store answers; rejects otherwise. */
  ping (): Promise<void>
  close (): Promise<void>
}

/** What Lua can return: integers, strings, nil (null) and nested arrays of those. */
export type ScriptReply = number | string | null | ScriptReply[]

/** Synchronous operations on already-prefixed keys, for the memory half of a script. */
export interface SyncOps {
  get (key: string): string | null
  set (key: string, value: string, ttlMs?: number): void
  del (key: string): number
  exists (key: string): boolean
  pexpire (key: string, ttlMs: number): boolean
  incrBy (key: string, by: number): number
  sAdd (key: string, ...members: string[]): number
  sRem (key: string, ...members: string[]): number
  sMembers (key: string): string[]
  sCard (key: string): number
  sIsMember (key: string, member: string): boolean
  hSet (key: string, fields: Record<string, string>): void
  hGet (key: string, field: string): string | null
  hGetAll (key: string): Record<string, string>
  hDel (key: string, ...fields: string[]): number
  zAdd (key: string, score: number, member: string): void
  zRem (key: string, ...members: string[]): number
  zScore (key: string, member: string): number | null
  zRangeByScore (key: string, min: number, max: number): string[]
  zCard (key: string): number
}

export interface Script {
  readonly name: string
  /** Receives KEYS (prefixed) and ARGV, where ARGV[1] is the prefix. */
  readonly lua: string
  /** The same logic for the memory store: keys prefixed, args[0] is the prefix, all strings. */
  local (ops: SyncOps, keys: string[], args: string[]): ScriptReply
}
