import type { Script } from '../../store/types.js'

/**
 * An instance leaves the registry on shutdown.
 * KEYS[1] the instance's alive key, KEYS[2] the set of instances
 * ARGV[1] prefix, ARGV[2] instanceId
 * → 1 when it was registered
 */
export const leaveScript: Script = {
  name: 'instances.leave',
  lua: `
redis.call('DEL', KEYS[1])
return redis.call('SREM', KEYS[2], ARGV[2])`,
  local (ops, [alive, all], [, instanceId]) {
    ops.del(alive)
    return ops.sRem(all, instanceId)
  }
}
