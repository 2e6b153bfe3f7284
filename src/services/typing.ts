import type { Script, Store } from '../store/types.js'
import { POP_BATCH } from './deadlines.js'
import { defaultErrorSink, notify, repeat, subscribe, type ErrorSink } from './timer.js'

export interface TypingOptions {
  store: Store
  /** How long an indicator lasts without a refresh (seed 001: 10 s). */
  ttlMs: number
  /** A refresh re-broadcasts at most this often. */
  throttleMs: number
  /** Default ttlMs / 10. */
  sweepIntervalMs?: number
  now?: () => number
  onError?: ErrorSink
}

export interface TypingEntry { scope: string, userId: string }

export const typingKeys = {
  user: (scope: string, userId: string) => `typing:${scope}:${userId}`,
  due: 'typing:due',
  // A newline never appears in a scope or a user id.
  member: (scope: string, userId: string) => `${scope}\n${userId}`
}

function parseMember (member: string): TypingEntry {
  const cut = member.indexOf('\n')
  return { scope: member.slice(0, cut), userId: member.slice(cut + 1) }
}

/** KEYS: typing:{scope}:{userId}, typing:due; ARGV: p, now, ttl, throttle, member, expiresAt → broadcast */
const startScript: Script = {
  name: 'typing.start',
  lua: `
local last = redis.call('GET', KEYS[1])
local broadcast = 0
if not last or tonumber(ARGV[2]) - tonumber(last) >= tonumber(ARGV[4]) then
  broadcast = 1
  last = ARGV[2]
end
redis.call('SET', KEYS[1], last, 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
return broadcast`,
  local (ops, [userKey, dueKey], [, now, ttl, throttle, member, expiresAt]) {
    let last = ops.get(userKey)
    let broadcast = 0
    if (last === null || Number(now) - Number(last) >= Number(throttle)) {
      broadcast = 1
      last = now
    }
    ops.set(userKey, last, Number(ttl))
    ops.zAdd(dueKey, Number(expiresAt), member)
    return broadcast
  }
}

// An indicator is on from a start until a stop, a clear or the sweep reports it: the due
// entry says so even when the key's own PX has just fired.
const STOP_LUA = `
local function stop(p, scope, uid)
  local existed = redis.call('DEL', p .. 'typing:' .. scope .. ':' .. uid)
  local pending = redis.call('ZREM', p .. 'typing:due', scope .. '\\n' .. uid)
  return existed == 1 or pending == 1
end
`

/** ARGV: p, userId, scope... → scopes where the user was typing */
const stopScript: Script = {
  name: 'typing.stop',
  lua: STOP_LUA + `
local stopped = {}
for i = 3, #ARGV do
  if stop(ARGV[1], ARGV[i], ARGV[2]) then stopped[#stopped + 1] = ARGV[i] end
end
return stopped`,
  local (ops, _keys, [p, userId, ...scopes]) {
    return scopes.filter((scope) => {
      const existed = ops.del(p + typingKeys.user(scope, userId))
      const pending = ops.zRem(p + typingKeys.due, typingKeys.member(scope, userId))
      return existed === 1 || pending === 1
    })
  }
}

/** KEYS: typing:due; ARGV: p, now, limit → members expired, popped and their keys deleted */
const expireScript: Script = {
  name: 'typing.expire',
  lua: `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  local cut = string.find(member, '\\n', 1, true)
  redis.call('DEL', ARGV[1] .. 'typing:' .. string.sub(member, 1, cut - 1) .. ':' .. string.sub(member, cut + 1))
end
return due`,
  local (ops, [dueKey], [p, now, limit]) {
    const due = ops.zRangeByScore(dueKey, -Infinity, Number(now)).slice(0, Number(limit))
    for (const member of due) {
      ops.zRem(dueKey, member)
      const { scope, userId } = parseMember(member)
      ops.del(p + typingKeys.user(scope, userId))
    }
    return due
  }
}

export interface Typing {
  /** Starts the sweeper that reports expired indicators. */
  start (): void
  /** The user types in the scope; broadcast: tell the others now (not typing before, or throttle passed). */
  start (scope: string, userId: string): Promise<{ broadcast: boolean }>
  stop (scope: string, userId: string): Promise<{ wasTyping: boolean }>
  /** Stops the user's indicators in these scopes (disconnect, leave); resolves to where one was on. */
  clear (userId: string, scopes: string[]): Promise<string[]>
  /** Pops expired indicators; each is returned by exactly one sweep on one instance. */
  sweep (): Promise<TypingEntry[]>
  onExpired (listener: (entry: TypingEntry) => void): () => void
  close (): Promise<void>
}

/** Typing indicators shared by all instances, expiring on their own after ttlMs. */
export function createTyping (options: TypingOptions): Typing {
  const { store, ttlMs, throttleMs, now = Date.now } = options
  const onError = options.onError ?? defaultErrorSink('typing')
  const sweepIntervalMs = options.sweepIntervalMs ?? Math.max(1, Math.ceil(ttlMs / 10))
  const listeners = new Set<(entry: TypingEntry) => void>()

  async function sweep (): Promise<TypingEntry[]> {
    const expired: TypingEntry[] = []
    for (;;) {
      const batch = await store.run(expireScript, [typingKeys.due], [now(), POP_BATCH]) as string[]
      expired.push(...batch.map(parseMember))
      if (batch.length < POP_BATCH) return expired
    }
  }

  const sweeper = repeat(sweepIntervalMs, async () => {
    for (const entry of await sweep()) notify(listeners, entry, onError)
  }, onError)

  async function begin (scope: string, userId: string): Promise<{ broadcast: boolean }> {
    const at = now()
    const reply = await store.run(startScript, [typingKeys.user(scope, userId), typingKeys.due],
      [at, ttlMs, throttleMs, typingKeys.member(scope, userId), at + ttlMs])
    return { broadcast: reply === 1 }
  }

  function start (): void
  function start (scope: string, userId: string): Promise<{ broadcast: boolean }>
  function start (scope?: string, userId?: string): void | Promise<{ broadcast: boolean }> {
    if (scope === undefined && userId === undefined) {
      sweeper.start()
      return
    }
    if (scope === undefined || userId === undefined) throw new TypeError('typing.start needs a scope and a user id')
    return begin(scope, userId)
  }

  async function clear (userId: string, scopes: string[]): Promise<string[]> {
    if (scopes.length === 0) return []
    return await store.run(stopScript, [], [userId, ...scopes]) as string[]
  }

  return {
    start,
    async stop (scope, userId) {
      return { wasTyping: (await clear(userId, [scope])).length === 1 }
    },
    clear,
    sweep,
    onExpired (listener) {
      return subscribe(listeners, listener)
    },
    async close () {
      sweeper.stop()
    }
  }
}
