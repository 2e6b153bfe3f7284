import type { Script } from '../../store/types.js'

/**
 * Announces an instance and refreshes its liveness, both in one step: a sweeper must never see
 * the membership without the alive key.
 * KEYS[1] the instance's alive key, KEYS[2] the set of instances
 * ARGV[1] prefix, ARGV[2] instanceId, ARGV[3] now (ms, the alive key's value), ARGV[4] ttl (ms)
 * → 1
 */
export const heartbeatScript: Script = {
  name: 'instances.heartbeat',
  lua: `
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[2])
return 1`,
  local (ops, [alive, all], [, instanceId, stamp, ttlMs]) {
    ops.set(alive, stamp, Number(ttlMs))
    ops.sAdd(all, instanceId)
    return 1
  }
}
