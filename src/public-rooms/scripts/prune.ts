import type { SyncOps } from '../../store/types.js'
import { KEY_OF_LUA } from '../../store/keys.js'

/**
 * Shared by the acquire and count scripts: drops the entries of one IP's slot set that are
 * stale or belong to an instance whose liveness key is gone. Members are
 * '{instanceId}|{socketId}'; the caller's own instance is alive by definition. Key names come
 * in as patterns (src/store/keys.ts: `{}` stands for an instance id), never spelled here.
 */
export const pruneLua = KEY_OF_LUA + `
local function prune(key, ip, now, stale, self, alive_pattern, slots_pattern)
  local entries = redis.call('ZRANGEBYSCORE', key, '-inf', '+inf', 'WITHSCORES')
  local alive = {}
  for i = 1, #entries, 2 do
    local member, score = entries[i], tonumber(entries[i + 1])
    local inst, sid = string.match(member, '^([^|]*)|(.*)$')
    if alive[inst] == nil then
      alive[inst] = inst == self or redis.call('EXISTS', key_of(alive_pattern, inst)) == 1
    end
    if now - score > stale or not alive[inst] then
      redis.call('ZREM', key, member)
      redis.call('SREM', key_of(slots_pattern, inst), ip .. '|' .. sid)
    end
  end
end
`

/** The key a one-part pattern names for `part`, prefix in front: `key_of` in Lua. */
export const keyOf = (p: string, pattern: string, part: string): string => p + pattern.replace('{}', () => part)

/** Splits a '{a}|{b}' member at its first bar, as the Lua `string.match` does. */
export function splitMember (member: string): [string, string] {
  const bar = member.indexOf('|')
  return [member.slice(0, bar), member.slice(bar + 1)]
}

export interface PruneArgs {
  p: string
  ip: string
  now: number
  stale: number
  self: string
  alivePattern: string
  slotsPattern: string
}

/** The memory twin of `prune` in Lua. */
export function prune (ops: SyncOps, key: string, args: PruneArgs): void {
  const { p, ip, now, stale, self, alivePattern, slotsPattern } = args
  const alive = new Map<string, boolean>()
  for (const member of ops.zRangeByScore(key, -Infinity, Infinity)) {
    const score = ops.zScore(key, member) ?? now
    const [instance, socketId] = splitMember(member)
    if (!alive.has(instance)) alive.set(instance, instance === self || ops.exists(keyOf(p, alivePattern, instance)))
    if (now - score > stale || alive.get(instance) !== true) {
      ops.zRem(key, member)
      ops.sRem(keyOf(p, slotsPattern, instance), `${ip}|${socketId}`)
    }
  }
}
