import type { Script } from '../../store/types.js'

/**
 * Frees one socket's slot (a no-op when it holds none).
 * KEYS[1]  the IP's slot set          KEYS[2]  this instance's slot set
 * ARGV[1]  prefix   ARGV[2] '{instanceId}|{socketId}'   ARGV[3] '{ipHash}|{socketId}'
 * Reply: slots the IP still holds
 */
export const releaseSlotScript: Script = {
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
