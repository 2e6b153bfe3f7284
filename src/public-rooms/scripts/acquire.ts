import type { Script } from '../../store/types.js'
import { prune, pruneLua } from './prune.js'

/**
 * Takes a connection slot for a socket unless the IP already holds `max`; idempotent per socket.
 * KEYS[1]  the IP's slot set (sorted by acquisition time)
 * KEYS[2]  this instance's slot set ('{ipHash}|{socketId}' members)
 * ARGV[1]  prefix          ARGV[2] now (ms)        ARGV[3] staleMs        ARGV[4] max
 * ARGV[5]  instanceId      ARGV[6] socketId        ARGV[7] ipHash
 * ARGV[8]  pattern of an instance's liveness key   ARGV[9] pattern of an instance's slot set
 * Reply: {ok (1|0), slots held}
 */
export const acquireSlotScript: Script = {
  name: 'slots.acquire',
  lua: pruneLua + `
local now, max = tonumber(ARGV[2]), tonumber(ARGV[4])
prune(KEYS[1], ARGV[7], now, tonumber(ARGV[3]), ARGV[5], ARGV[8], ARGV[9])
local member = ARGV[5] .. '|' .. ARGV[6]
local n = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], member) then return {1, n} end
if n >= max then return {0, n} end
redis.call('ZADD', KEYS[1], ARGV[2], member)
redis.call('SADD', KEYS[2], ARGV[7] .. '|' .. ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1, n + 1}`,
  local (ops, [ipKey, instanceKey], [p, nowArg, staleArg, maxArg, instanceId, socketId, ip, alivePattern, slotsPattern]) {
    const now = Number(nowArg)
    const stale = Number(staleArg)
    prune(ops, ipKey, { p, ip, now, stale, self: instanceId, alivePattern, slotsPattern })
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
