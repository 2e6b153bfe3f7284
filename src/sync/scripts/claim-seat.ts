import type { Script } from '../../store/types.js'

/**
 * A seat in one step: the participant found by its identity, else (capacity allowing) a new
 * one, so instances racing for the last seat cannot overfill the room. A new seat has no socket
 * yet, so it starts with a grace deadline (attach removes it): a crash before attaching frees it.
 * KEYS[1] participants, KEYS[2] identities, KEYS[3] online, KEYS[4] sockets, KEYS[5] playback
 *   (the room keys, in roomKeys order), KEYS[6] the grace queue
 * ARGV[1] prefix, ARGV[2] lookup identity, ARGV[3] new participant id, ARGV[4] its JSON,
 *   ARGV[5] max participants, ARGV[6] ttlMs, ARGV[7] reserve ('1' writes the seat, '0' only looks),
 *   ARGV[8] the new seat's identity, ARGV[9] its grace member, ARGV[10] graceAt
 * → {'existing', json} | {'full'} | {'free'} | {'new', json, seats now}
 */
export const claimSeatScript: Script = {
  name: 'sync.claimSeat',
  lua: `
local existing = redis.call('HGET', KEYS[2], ARGV[2])
if existing then
  local json = redis.call('HGET', KEYS[1], existing)
  if json then return {'existing', json} end
end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return {'full'} end
if ARGV[7] ~= '1' then return {'free'} end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[8], ARGV[3])
for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
redis.call('ZADD', KEYS[6], ARGV[10], ARGV[9])
return {'new', ARGV[4], redis.call('HLEN', KEYS[1])}`,
  local (ops, keys, [, identity, newId, json, max, ttlMs, reserve, newIdentity, member, graceAt]) {
    const [participants, identities] = keys
    const existing = ops.hGet(identities, identity)
    if (existing !== null) {
      const stored = ops.hGet(participants, existing)
      if (stored !== null) return ['existing', stored]
    }
    if (Object.keys(ops.hGetAll(participants)).length >= Number(max)) return ['full']
    if (reserve !== '1') return ['free']
    ops.hSet(participants, { [newId]: json })
    ops.hSet(identities, { [newIdentity]: newId })
    for (const key of keys.slice(0, 5)) ops.pexpire(key, Number(ttlMs))
    ops.zAdd(keys[5], Number(graceAt), member)
    return ['new', json, Object.keys(ops.hGetAll(participants)).length]
  }
}
