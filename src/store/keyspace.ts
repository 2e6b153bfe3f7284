import type { SyncOps } from './types.js'

type Kind = 'string' | 'set' | 'hash' | 'zset'
interface Values { string: string, set: Set<string>, hash: Map<string, string>, zset: Map<string, number> }
interface Entry { kind: Kind, value: Values[Kind], expiresAt: number | null }

/** The synchronous in-process keyspace: SyncOps plus what the memory Store needs around it. */
export interface Keyspace extends SyncOps {
  pttl (key: string): number
  /** Live (unexpired) keys. */
  keys (): string[]
  /** Drops every expired entry; lazy expiry alone would keep keys nobody reads again. */
  sweep (): void
}

// The same texts as Redis, so callers (and tests) see one behaviour whatever the store.
const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value'
const NOT_INTEGER = 'ERR value is not an integer or out of range'

function checkTtl (ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`invalid ttl ${ttlMs} ms`)
  return Math.ceil(ttlMs)
}

/** Keys hold one kind of value and expire lazily, with Redis semantics for empty containers. */
export function createKeyspace (now: () => number): Keyspace {
  const entries = new Map<string, Entry>()

  function live (key: string): Entry | undefined {
    const entry = entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt !== null && entry.expiresAt <= now()) {
      entries.delete(key)
      return undefined
    }
    return entry
  }

  function read<K extends Kind> (key: string, kind: K): Values[K] | undefined {
    const entry = live(key)
    if (entry === undefined) return undefined
    if (entry.kind !== kind) throw new Error(WRONGTYPE)
    return entry.value as Values[K]
  }

  function container<K extends 'set' | 'hash' | 'zset'> (key: string, kind: K): Values[K] {
    const existing = read(key, kind)
    if (existing !== undefined) return existing
    const value = (kind === 'set' ? new Set<string>() : new Map()) as Values[K]
    entries.set(key, { kind, value, expiresAt: null })
    return value
  }

  // Redis never keeps an empty set, hash or sorted set: the key disappears with its last member.
  function dropIfEmpty (key: string, value: { size: number } | undefined): void {
    if (value !== undefined && value.size === 0) entries.delete(key)
  }

  /** SREM, HDEL and ZREM alike: delete what is there, count it, drop the key once empty. */
  function removeFrom (key: string, kind: 'set' | 'hash' | 'zset', items: string[]): number {
    const container = read(key, kind)
    if (container === undefined) return 0
    let removed = 0
    for (const item of items) if (container.delete(item)) removed++
    dropIfEmpty(key, container)
    return removed
  }

  const ops: Keyspace = {
    get (key) {
      return read(key, 'string') ?? null
    },
    set (key, value, ttlMs) {
      const expiresAt = ttlMs === undefined ? null : now() + checkTtl(ttlMs)
      entries.set(key, { kind: 'string', value, expiresAt })
    },
    del (key) {
      return live(key) !== undefined && entries.delete(key) ? 1 : 0
    },
    exists (key) {
      return live(key) !== undefined
    },
    pexpire (key, ttlMs) {
      const entry = live(key)
      if (entry === undefined) return false
      if (ttlMs <= 0) entries.delete(key)
      else entry.expiresAt = now() + Math.ceil(ttlMs)
      return true
    },
    pttl (key) {
      const entry = live(key)
      if (entry === undefined) return -2
      if (entry.expiresAt === null) return -1
      return Math.max(0, entry.expiresAt - now())
    },
    incrBy (key, by) {
      const entry = live(key)
      const current = read(key, 'string') ?? '0'
      if (!/^-?\d+$/.test(current) || !Number.isSafeInteger(Number(current))) throw new Error(NOT_INTEGER)
      const next = Number(current) + by
      if (!Number.isSafeInteger(next)) throw new Error(NOT_INTEGER)
      // INCRBY keeps the key's expiry, unlike SET.
      entries.set(key, { kind: 'string', value: String(next), expiresAt: entry?.expiresAt ?? null })
      return next
    },

    sAdd (key, ...members) {
      if (members.length === 0) return 0
      const set = container(key, 'set')
      let added = 0
      for (const member of members) {
        if (!set.has(member)) { set.add(member); added++ }
      }
      return added
    },
    sRem (key, ...members) {
      return removeFrom(key, 'set', members)
    },
    sMembers (key) {
      return [...(read(key, 'set') ?? [])]
    },
    sCard (key) {
      return read(key, 'set')?.size ?? 0
    },
    sIsMember (key, member) {
      return read(key, 'set')?.has(member) ?? false
    },

    hSet (key, fields) {
      const names = Object.keys(fields)
      if (names.length === 0) return
      const hash = container(key, 'hash')
      for (const name of names) hash.set(name, fields[name])
    },
    hGet (key, field) {
      return read(key, 'hash')?.get(field) ?? null
    },
    hGetAll (key) {
      return Object.fromEntries(read(key, 'hash') ?? [])
    },
    hDel (key, ...fields) {
      return removeFrom(key, 'hash', fields)
    },

    zAdd (key, score, member) {
      if (Number.isNaN(score)) throw new Error('ERR value is not a valid float')
      container(key, 'zset').set(member, score)
    },
    zRem (key, ...members) {
      return removeFrom(key, 'zset', members)
    },
    zScore (key, member) {
      return read(key, 'zset')?.get(member) ?? null
    },
    zRangeByScore (key, min, max) {
      const zset = read(key, 'zset')
      if (zset === undefined) return []
      // Redis orders by score, then by member bytes; code-unit order matches it for ASCII.
      return [...zset]
        .filter(([, score]) => score >= min && score <= max)
        .sort(([a, sa], [b, sb]) => sa - sb || (a < b ? -1 : a > b ? 1 : 0))
        .map(([member]) => member)
    },
    zCard (key) {
      return read(key, 'zset')?.size ?? 0
    },

    keys () {
      return [...entries.keys()].filter((key) => live(key) !== undefined)
    },
    sweep () {
      for (const key of entries.keys()) live(key)
    }
  }
  return ops
}
