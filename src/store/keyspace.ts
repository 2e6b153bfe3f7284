import type { SyncOps } from './types.js'

type Kind = 'string' | 'set' | 'hash' | 'zset'
/**
 * A set or hash of up to SMALL entries is a plain array, exactly as long as its content
 * ([member, ...] or [field, value, field, value, ...]), replaced on every change; a larger one
 * is a Set or Map. A connection keeps a few one- or two-entry containers here (its presence
 * record, its user's sockets): an array of one costs about a third of the smallest Set or Map.
 */
type SetValue = string[] | Set<string>
type HashValue = string[] | Map<string, string>
interface Values { string: string, set: SetValue, hash: HashValue, zset: Map<string, number> }

const SMALL = 8

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

/**
 * A stored string as one flat copy of its text. JSON.stringify and concatenation build longer
 * strings as ropes (V8 cons strings) that keep every piece and a node per join (a registry
 * entry of ~140 characters took 264 bytes); turning one into a number makes V8 flatten it in
 * place, and the GC usually drops the rope's shell (200 bytes, or 168 without it).
 */
function flat (value: string): string {
  Number(value)
  return value
}

const setSize = (set: SetValue): number => Array.isArray(set) ? set.length : set.size
const setHas = (set: SetValue, member: string): boolean => Array.isArray(set) ? set.includes(member) : set.has(member)

/** The set with `member` added (a new array while small; the same Set once large). */
function setWith (set: SetValue | undefined, member: string): SetValue {
  if (set === undefined) return [member]
  if (!Array.isArray(set)) return set.add(member)
  // concat, not push: push leaves room for 16 more.
  return set.length < SMALL ? set.concat(member) : new Set(set).add(member)
}

function hashIndex (pairs: string[], field: string): number {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === field) return i
  return -1
}

function hashGet (hash: HashValue, field: string): string | undefined {
  if (!Array.isArray(hash)) return hash.get(field)
  const i = hashIndex(hash, field)
  return i < 0 ? undefined : hash[i + 1]
}

function hashEntries (hash: HashValue): Array<[string, string]> {
  if (!Array.isArray(hash)) return [...hash]
  const entries: Array<[string, string]> = []
  for (let i = 0; i < hash.length; i += 2) entries.push([hash[i], hash[i + 1]])
  return entries
}

/** The hash with these fields set (a new array while small; the same Map once large). */
function hashWith (hash: HashValue | undefined, fields: Record<string, string>, names: string[]): HashValue {
  if (hash !== undefined && !Array.isArray(hash)) {
    for (const name of names) hash.set(name, flat(fields[name]))
    return hash
  }
  const pairs = hash === undefined ? [] : hash.slice()
  for (const name of names) {
    const i = hashIndex(pairs, name)
    if (i < 0) pairs.push(name, flat(fields[name]))
    else pairs[i + 1] = flat(fields[name])
  }
  // slice() copies without the room push() left.
  return pairs.length <= 2 * SMALL ? pairs.slice() : new Map(hashEntries(pairs))
}

/** The container without `items`, and how many of them were in it (arrays are replaced, not changed). */
function without<V extends SetValue | HashValue | Map<string, number>> (container: V, items: string[], pairs: boolean): [V, number] {
  if (!Array.isArray(container)) {
    let removed = 0
    for (const item of items) if (container.delete(item)) removed++
    return [container, removed]
  }
  const step = pairs ? 2 : 1
  const kept: string[] = []
  for (let i = 0; i < container.length; i += step) {
    if (items.includes(container[i])) continue
    kept.push(container[i])
    if (pairs) kept.push(container[i + 1])
  }
  if (kept.length === container.length) return [container, 0]
  return [kept.slice() as V, (container.length - kept.length) / step]
}

/**
 * Keys hold one kind of value and expire lazily, with Redis semantics for empty containers.
 * One map per kind holds the values themselves (no wrapper per key), and expiry times are kept
 * apart, only for the keys that have one.
 */
export function createKeyspace (now: () => number): Keyspace {
  const spaces: { [K in Kind]: Map<string, Values[K]> } = {
    string: new Map(), set: new Map(), hash: new Map(), zset: new Map()
  }
  const kinds = Object.keys(spaces) as Kind[]
  // Expiry times in ms since `origin`: small integers (Smis, kept in the Map itself) for 24 days,
  // where epoch times would box a 16-byte heap number per key with a TTL.
  const origin = now()
  const clock = (): number => now() - origin
  const expiries = new Map<string, number>()

  /** Deletes the key whatever it holds; whether it was there. */
  function remove (key: string): boolean {
    expiries.delete(key)
    for (const kind of kinds) if (spaces[kind].delete(key)) return true
    return false
  }

  /** Whether the key has expired (it is deleted then). */
  function expired (key: string): boolean {
    const at = expiries.get(key)
    if (at === undefined || at > clock()) return false
    remove(key)
    return true
  }

  /** The kind of a live key; undefined when there is none. */
  function kindOf (key: string): Kind | undefined {
    if (expired(key)) return undefined
    for (const kind of kinds) if (spaces[kind].has(key)) return kind
    return undefined
  }

  function read<K extends Kind> (key: string, kind: K): Values[K] | undefined {
    const value = spaces[kind].get(key)
    if (value !== undefined) return expired(key) ? undefined : value
    if (kindOf(key) !== undefined) throw new Error(WRONGTYPE)
    return undefined
  }

  /** Sets the value of a key of this kind; a new key is kept flat (keys are built by concatenation). */
  function put<K extends Kind> (key: string, kind: K, value: Values[K]): void {
    const space = spaces[kind] as Map<string, Values[K]>
    space.set(space.has(key) ? key : flat(key), value)
  }

  /** Stores a container, or deletes the key when it is empty: Redis never keeps an empty set, hash or sorted set. */
  function store<K extends 'set' | 'hash' | 'zset'> (key: string, kind: K, value: Values[K]): void {
    const size = Array.isArray(value) ? value.length : (value as Set<string> | Map<string, unknown>).size
    if (size === 0) remove(key)
    else put(key, kind, value)
  }

  /** SREM, HDEL and ZREM alike: delete what is there, count it, drop the key once empty. */
  function removeFrom (key: string, kind: 'set' | 'hash' | 'zset', items: string[]): number {
    const container = read(key, kind)
    if (container === undefined) return 0
    const [rest, removed] = without(container, items, kind === 'hash')
    if (removed > 0) store(key, kind, rest)
    return removed
  }

  const ops: Keyspace = {
    get (key) {
      return read(key, 'string') ?? null
    },
    set (key, value, ttlMs) {
      const expiresAt = ttlMs === undefined ? undefined : clock() + checkTtl(ttlMs)
      if (!spaces.string.has(key)) remove(key)
      put(key, 'string', flat(value))
      if (expiresAt === undefined) expiries.delete(key)
      else expiries.set(key, expiresAt)
    },
    del (key) {
      return !expired(key) && remove(key) ? 1 : 0
    },
    exists (key) {
      return kindOf(key) !== undefined
    },
    pexpire (key, ttlMs) {
      if (kindOf(key) === undefined) return false
      if (ttlMs <= 0) remove(key)
      else expiries.set(key, clock() + Math.ceil(ttlMs))
      return true
    },
    pttl (key) {
      if (kindOf(key) === undefined) return -2
      const at = expiries.get(key)
      return at === undefined ? -1 : Math.max(0, at - clock())
    },
    incrBy (key, by) {
      const current = read(key, 'string') ?? '0'
      if (!/^-?\d+$/.test(current) || !Number.isSafeInteger(Number(current))) throw new Error(NOT_INTEGER)
      const next = Number(current) + by
      if (!Number.isSafeInteger(next)) throw new Error(NOT_INTEGER)
      // INCRBY keeps the key's expiry, unlike SET.
      put(key, 'string', String(next))
      return next
    },

    sAdd (key, ...members) {
      if (members.length === 0) return 0
      let set = read(key, 'set')
      let added = 0
      for (const member of members) {
        if (set !== undefined && setHas(set, member)) continue
        set = setWith(set, member)
        added++
      }
      if (added > 0) store(key, 'set', set!)
      return added
    },
    sRem (key, ...members) {
      return removeFrom(key, 'set', members)
    },
    sMembers (key) {
      return [...(read(key, 'set') ?? [])]
    },
    sCard (key) {
      const set = read(key, 'set')
      return set === undefined ? 0 : setSize(set)
    },
    sIsMember (key, member) {
      const set = read(key, 'set')
      return set !== undefined && setHas(set, member)
    },

    hSet (key, fields) {
      const names = Object.keys(fields)
      if (names.length === 0) return
      store(key, 'hash', hashWith(read(key, 'hash'), fields, names))
    },
    hGet (key, field) {
      const hash = read(key, 'hash')
      return (hash === undefined ? undefined : hashGet(hash, field)) ?? null
    },
    hGetAll (key) {
      const hash = read(key, 'hash')
      return Object.fromEntries(hash === undefined ? [] : hashEntries(hash))
    },
    hDel (key, ...fields) {
      return removeFrom(key, 'hash', fields)
    },

    zAdd (key, score, member) {
      if (Number.isNaN(score)) throw new Error('ERR value is not a valid float')
      const zset = read(key, 'zset') ?? new Map<string, number>()
      store(key, 'zset', zset.set(member, score))
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
      return kinds.flatMap((kind) => [...spaces[kind].keys()]).filter((key) => !expired(key))
    },
    sweep () {
      // Only keys with an expiry can expire; deleting while iterating a Map is safe.
      for (const key of expiries.keys()) expired(key)
    }
  }
  return ops
}
