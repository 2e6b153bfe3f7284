import type { Script } from '../../store/types.js'

/**
 * Announces an instance and refreshes its liveness, both in one step: a sweeper must never see
 * the membership without the alive key. Also reads the store's epoch, setting it to the
 * candidate when missing: an epoch other than the one an instance saw before means the data
 * it wrote is gone (a Redis restarted empty, a FLUSHDB).
 * KEYS[1] the instance's alive key, KEYS[2] the set of instances, KEYS[3] the epoch key
 * ARGV[1] prefix, ARGV[2] instanceId, ARGV[3] now (ms, the alive key's value), ARGV[4] ttl (ms),
 *   ARGV[5] candidate epoch
 * → the epoch
 */
export const heartbeatScript: Script = {
  name: 'instances.heartbeat',
  lua: `
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[5], 'NX')
return redis.call('GET', KEYS[3])`,
  local (ops, [alive, all, epoch], [, instanceId, stamp, ttlMs, candidate]) {
    ops.set(alive, stamp, Number(ttlMs))
    ops.sAdd(all, instanceId)
    if (!ops.exists(epoch)) ops.set(epoch, candidate)
    return ops.get(epoch)
  }
}
