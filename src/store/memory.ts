import { randomUUID } from 'node:crypto'
import { globToRegExp } from './glob.js'
import { createKeyspace } from './keyspace.js'
import type { Script, ScriptReply, Store } from './types.js'

export interface MemoryStoreOptions {
  prefix?: string
  now?: () => number
  /** How often expired keys nobody reads again are dropped (default 1 s). */
  sweepIntervalMs?: number
}

/**
 * The embedded-mode store: one process, so running a script synchronously makes it atomic.
 * Keys are prefixed like in Redis so that keys seen by scripts and by `scan` look the same.
 */
export function createMemoryStore (options: MemoryStoreOptions = {}): Store {
  const { prefix = '', now = Date.now, sweepIntervalMs = 1000 } = options
  const ops = createKeyspace(now)
  const k = (key: string): string => prefix + key
  // The process is the server: it never restarts under its users.
  const serverId = randomUUID()
  let sweeper: NodeJS.Timeout | null = setInterval(() => ops.sweep(), sweepIntervalMs)
  sweeper.unref()

  return {
    kind: 'memory',
    prefix,
    redis: null,

    async get (key) { return ops.get(k(key)) },
    async set (key, value, { ttlMs, onlyIfAbsent = false } = {}) {
      if (onlyIfAbsent && ops.exists(k(key))) return false
      ops.set(k(key), value, ttlMs)
      return true
    },
    async del (...keys) {
      return keys.reduce((n, key) => n + ops.del(k(key)), 0)
    },
    async exists (key) { return ops.exists(k(key)) },
    async pexpire (key, ttlMs) { return ops.pexpire(k(key), ttlMs) },
    async pttl (key) { return ops.pttl(k(key)) },
    async incrBy (key, by) { return ops.incrBy(k(key), by) },

    async sAdd (key, ...members) { return ops.sAdd(k(key), ...members) },
    async sRem (key, ...members) { return ops.sRem(k(key), ...members) },
    async sMembers (key) { return ops.sMembers(k(key)) },
    async sCard (key) { return ops.sCard(k(key)) },
    async sIsMember (key, member) { return ops.sIsMember(k(key), member) },

    async hSet (key, fields) { ops.hSet(k(key), fields) },
    async hGet (key, field) { return ops.hGet(k(key), field) },
    async hGetAll (key) { return ops.hGetAll(k(key)) },
    async hDel (key, ...fields) { return ops.hDel(k(key), ...fields) },
    async hLen (key) { return Object.keys(ops.hGetAll(k(key))).length },

    async zAdd (key, score, member) { ops.zAdd(k(key), score, member) },
    async zRem (key, ...members) { return ops.zRem(k(key), ...members) },
    async zScore (key, member) { return ops.zScore(k(key), member) },
    async zRangeByScore (key, min, max) { return ops.zRangeByScore(k(key), min, max) },
    async zCard (key) { return ops.zCard(k(key)) },

    async scan (pattern) {
      const matcher = globToRegExp(pattern)
      return ops.keys()
        .filter((key) => key.startsWith(prefix))
        .map((key) => key.slice(prefix.length))
        .filter((key) => matcher.test(key))
    },

    async run (script: Script, keys: string[], args: Array<string | number>): Promise<ScriptReply> {
      return script.local(ops, keys.map(k), [prefix, ...args.map(String)])
    },

    async serverId () { return serverId },
    async ping () {
      if (sweeper === null) throw new Error('memory store is closed')
    },
    async close () {
      if (sweeper !== null) clearInterval(sweeper)
      sweeper = null
    }
  }
}
