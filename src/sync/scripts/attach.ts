import type { Script } from '../../store/types.js'

/**
 * Attaches a connection to its seat; a pending grace is cancelled in the same step.
 * KEYS[1] participants, KEYS[2] sockets, KEYS[3] online, KEYS[4] this instance's sockets,
 *   KEYS[5] the set of instances with sockets, KEYS[6] identities, KEYS[7] playback, KEYS[8] the grace queue
 * ARGV[1] prefix, ARGV[2] participantId, ARGV[3] socketId, ARGV[4] the sockets hash value
 *   (`participantId|instanceId|connectionId`), ARGV[5] the instance member (`roomId|socketId|connectionId`),
 *   ARGV[6] instanceId, ARGV[7] ttlMs, ARGV[8] the grace member
 * → 1 (attached), or 0 when the seat is gone
 */
export const attachScript: Script = {
  name: 'sync.attach',
  lua: `
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[5])
redis.call('SADD', KEYS[5], ARGV[6])
for _, i in ipairs({1, 2, 3, 6, 7}) do redis.call('PEXPIRE', KEYS[i], ARGV[7]) end
redis.call('ZREM', KEYS[8], ARGV[8])
return 1`,
  local (ops, keys, [, pid, sid, value, member, instanceId, ttlMs, graceMember]) {
    const [participants, sockets, online, instanceSockets, instances] = keys
    if (ops.hGet(participants, pid) === null) return 0
    ops.hSet(sockets, { [sid]: value })
    ops.sAdd(online, sid)
    ops.sAdd(instanceSockets, member)
    ops.sAdd(instances, instanceId)
    for (const i of [0, 1, 2, 5, 6]) ops.pexpire(keys[i], Number(ttlMs))
    ops.zRem(keys[7], graceMember)
    return 1
  }
}
