import type { Script } from '../../store/types.js'
import { prune, pruneLua } from './prune.js'

/**
 * The slots an IP holds, after dropping stale entries and those of dead instances.
 * KEYS[1]  the IP's slot set
 * ARGV[1]  prefix   ARGV[2] now (ms)   ARGV[3] staleMs   ARGV[4] ipHash   ARGV[5] instanceId
 * ARGV[6]  pattern of an instance's liveness key   ARGV[7] pattern of an instance's slot set
 * Reply: slots held
 */
export const countSlotsScript: Script = {
  name: 'slots.count',
  lua: pruneLua + `
prune(KEYS[1], ARGV[4], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[5], ARGV[6], ARGV[7])
return redis.call('ZCARD', KEYS[1])`,
  local (ops, [ipKey], [p, now, stale, ip, instanceId, alivePattern, slotsPattern]) {
    prune(ops, ipKey, { p, ip, now: Number(now), stale: Number(stale), self: instanceId, alivePattern, slotsPattern })
    return ops.zCard(ipKey)
  }
}
