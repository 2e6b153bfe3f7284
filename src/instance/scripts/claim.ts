import { instanceKeys, KEY_OF_LUA } from '../../store/keys.js'
import type { Script } from '../../store/types.js'

/**
 * A survivor claims the cleanup of a dead instance. Exactly one caller gets 1 while the claimant
 * lives; a claim whose claimant died too passes to the next caller, so a crash mid-cleanup
 * strands nothing. The claimant calls `releaseScript` once its subscribers are done.
 * KEYS[1] the dead instance's alive key, KEYS[2] the claims hash (dead id → claimant id),
 *   KEYS[3] the set of instances
 * ARGV[1] prefix, ARGV[2] dead instanceId, ARGV[3] claimant instanceId, ARGV[4] the alive key pattern
 * → 1 claimed by this caller (again, if it already held it), 0 otherwise
 */
export const claimScript: Script = {
  name: 'instances.claim',
  lua: KEY_OF_LUA + `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 0 then return 0 end
local holder = redis.call('HGET', KEYS[2], ARGV[2])
if holder and holder ~= ARGV[3] and redis.call('EXISTS', key_of(ARGV[4], holder)) == 1 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`,
  local (ops, [alive, claims, all], [prefix, deadId, claimant]) {
    if (ops.exists(alive) || !ops.sIsMember(all, deadId)) return 0
    const holder = ops.hGet(claims, deadId)
    if (holder !== null && holder !== claimant && ops.exists(prefix + instanceKeys.alive(holder))) return 0
    ops.hSet(claims, { [deadId]: claimant })
    return 1
  }
}

/**
 * The cleanup of a dead instance is done: it leaves the registry and its claim is dropped.
 * KEYS[1] the set of instances, KEYS[2] the claims hash
 * ARGV[1] prefix, ARGV[2] dead instanceId
 * → 1 when it was still registered
 */
export const releaseScript: Script = {
  name: 'instances.release',
  lua: `
redis.call('HDEL', KEYS[2], ARGV[2])
return redis.call('SREM', KEYS[1], ARGV[2])`,
  local (ops, [all, claims], [, deadId]) {
    ops.hDel(claims, deadId)
    return ops.sRem(all, deadId)
  }
}
