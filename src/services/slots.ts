import type { Script, SyncOps } from '../store/types.js'
import type { Store } from '../store/types.js'

export interface ConnectionSlotsOptions {
  store: Store
  instanceId: string
  /** Concurrent connections allowed per hashed IP across all instances. */
  max: number
  /** Entries older than this are dropped whatever their instance says (default 1 h). */
  staleMs?: number
  now?: () => number
}

export const slotKeys = {
  ip: (ipHash: string) => `slots:${ipHash}`,
  instance: (instanceId: string) => `instance:${instanceId}:slots`
}

// Shared Lua: drops stale entries and those of instances whose liveness key is gone. Members
// are '{instanceId}|{socketId}'; the caller's own instance is alive by definition.
const PRUNE_LUA = `
local function prune(p, key, ip, now, stale, self)
  local entries = redis.call('ZRANGEBYSCORE', key, '-inf', '+inf', 'WITHSCORES')
  local alive = {}
  for i = 1, #entries, 2 do
    local member, score = entries[i], tonumber(entries[i + 1])
    local inst, sid = string.match(member, '^([^|]*)|(.*)$')
    if alive[inst] == nil then
      alive[inst] = inst == self or redis.call('EXISTS', p .. 'instance:' .. inst .. ':alive') == 1
    end
    if now - score > stale or not alive[inst] then
      redis.call('ZREM', key, member)
      redis.call('SREM', p .. 'instance:' .. inst .. ':slots', ip .. '|' .. sid)
    end
  end
end
`

function splitMember (member: string): [string, string] {
  const bar = member.indexOf('|')
  return [member.slice(0, bar), member.slice(bar + 1)]
}

function prune (ops: SyncOps, p: string, key: string, ip: string, now: number, stale: number, self: string): void {
  const alive = new Map<string, boolean>()
  for (const member of ops.zRangeByScore(key, -Infinity, Infinity)) {
    const score = ops.zScore(key, member) ?? now
    const [instance, socketId] = splitMember(member)
    if (!alive.has(instance)) alive.set(instance, instance === self || ops.exists(`${p}instance:${instance}:alive`))
    if (now - score > stale || alive.get(instance) !== true) {
      ops.zRem(key, member)
      ops.sRem(`${p}${slotKeys.instance(instance)}`, `${ip}|${socketId}`)
    }
  }
}

/** KEYS: slots:{ip}, instance:{id}:slots; ARGV: p, now, staleMs, max, instanceId, socketId, ipHash → {ok, count} */
const acquireScript: Script = {
  name: 'slots.acquire',
  lua: PRUNE_LUA + `
local now, max = tonumber(ARGV[2]), tonumber(ARGV[4])
prune(ARGV[1], KEYS[1], ARGV[7], now, tonumber(ARGV[3]), ARGV[5])
local member = ARGV[5] .. '|' .. ARGV[6]
local n = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], member) then return {1, n} end
if n >= max then return {0, n} end
redis.call('ZADD', KEYS[1], ARGV[2], member)
redis.call('SADD', KEYS[2], ARGV[7] .. '|' .. ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1, n + 1}`,
  local (ops, [ipKey, instanceKey], [p, nowArg, staleArg, maxArg, instanceId, socketId, ip]) {
    const now = Number(nowArg)
    const stale = Number(staleArg)
    prune(ops, p, ipKey, ip, now, stale, instanceId)
    const member = `${instanceId}|${socketId}`
    const n = ops.zCard(ipKey)
    if (ops.zScore(ipKey, member) !== null) return [1, n]
    if (n >= Number(maxArg)) return [0, n]
    ops.zAdd(ipKey, now, member)
    ops.sAdd(instanceKey, `${ip}|${socketId}`)
    // Every entry is stale once staleMs has passed since the newest: nobody needs the keys then.
    ops.pexpire(ipKey, stale)
    ops.pexpire(instanceKey, stale)
    return [1, n + 1]
  }
}

/** KEYS: slots:{ip}, instance:{id}:slots; ARGV: p, member, instance-set member → count */
const releaseScript: Script = {
  name: 'slots.release',
  lua: `
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[3])
return redis.call('ZCARD', KEYS[1])`,
  local (ops, [ipKey, instanceKey], [, member, instanceMember]) {
    ops.zRem(ipKey, member)
    ops.sRem(instanceKey, instanceMember)
    return ops.zCard(ipKey)
  }
}

/** KEYS: slots:{ip}; ARGV: p, now, staleMs, ipHash, instanceId → count */
const countScript: Script = {
  name: 'slots.count',
  lua: PRUNE_LUA + `
prune(ARGV[1], KEYS[1], ARGV[4], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[5])
return redis.call('ZCARD', KEYS[1])`,
  local (ops, [ipKey], [p, now, stale, ip, instanceId]) {
    prune(ops, p, ipKey, ip, Number(now), Number(stale), instanceId)
    return ops.zCard(ipKey)
  }
}

/** KEYS: instance:{id}:slots; ARGV: p, instanceId → released */
const releaseInstanceScript: Script = {
  name: 'slots.releaseInstance',
  lua: `
local entries = redis.call('SMEMBERS', KEYS[1])
for _, entry in ipairs(entries) do
  local ip, sid = string.match(entry, '^([^|]*)|(.*)$')
  redis.call('ZREM', ARGV[1] .. 'slots:' .. ip, ARGV[2] .. '|' .. sid)
end
redis.call('DEL', KEYS[1])
return #entries`,
  local (ops, [instanceKey], [p, instanceId]) {
    const entries = ops.sMembers(instanceKey)
    for (const entry of entries) {
      const [ip, socketId] = splitMember(entry)
      ops.zRem(p + slotKeys.ip(ip), `${instanceId}|${socketId}`)
    }
    ops.del(instanceKey)
    return entries.length
  }
}

/**
 * Concurrent connections per hashed IP across all instances (seed 000: at most 2). Needs the
 * instance registry running on every instance: entries of an instance without a liveness key
 * count as dead and are dropped.
 */
export function createConnectionSlots (options: ConnectionSlotsOptions) {
  const { store, instanceId, max, staleMs = 3_600_000, now = Date.now } = options
  const check = (ipHash: string): string => {
    // '|' separates the parts of set members; an HMAC hex digest never contains it.
    if (ipHash === '' || ipHash.includes('|')) throw new Error(`invalid ip hash ${JSON.stringify(ipHash)}`)
    return ipHash
  }

  return {
    max,

    /** Takes a slot for the socket if fewer than `max` are held; idempotent per socket. */
    async acquire (ipHash: string, socketId: string): Promise<{ ok: boolean, count: number }> {
      const reply = await store.run(acquireScript, [slotKeys.ip(check(ipHash)), slotKeys.instance(instanceId)],
        [now(), staleMs, max, instanceId, socketId, ipHash])
      const [ok, count] = reply as [number, number]
      return { ok: ok === 1, count }
    },

    /** Frees the socket's slot (a no-op when it holds none); resolves to the count left. */
    async release (ipHash: string, socketId: string): Promise<number> {
      return await store.run(releaseScript, [slotKeys.ip(check(ipHash)), slotKeys.instance(instanceId)],
        [`${instanceId}|${socketId}`, `${ipHash}|${socketId}`]) as number
    },

    /** Slots held for the IP hash now, after dropping stale and dead entries. */
    async count (ipHash: string): Promise<number> {
      return await store.run(countScript, [slotKeys.ip(check(ipHash))], [now(), staleMs, ipHash, instanceId]) as number
    },

    /** Graceful shutdown: frees every slot this instance holds; resolves to how many. */
    async releaseInstance (): Promise<number> {
      return await store.run(releaseInstanceScript, [slotKeys.instance(instanceId)], [instanceId]) as number
    }
  }
}

export type ConnectionSlots = ReturnType<typeof createConnectionSlots>
