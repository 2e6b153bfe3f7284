import type { Script } from '../../store/types.js'
import { SOCKETS_OF_LUA, socketsOf } from './sockets-of.js'

/**
 * Frees the seat unless a socket came back for it (and drops its grace deadline).
 * KEYS[1] participants, KEYS[2] identities, KEYS[3] sockets, KEYS[4] the grace queue
 * ARGV[1] prefix, ARGV[2] participantId, ARGV[3] the grace member
 * → {the stored JSON, seats left}, 0 (still attached), or nil
 */
export const releaseScript: Script = {
  name: 'sync.release',
  lua: SOCKETS_OF_LUA + `
local json = redis.call('HGET', KEYS[1], ARGV[2])
if not json then return false end
if sockets_of(KEYS[3], ARGV[2]) > 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
local ids = redis.call('HGETALL', KEYS[2])
for i = 1, #ids, 2 do
  if ids[i + 1] == ARGV[2] then redis.call('HDEL', KEYS[2], ids[i]) end
end
redis.call('ZREM', KEYS[4], ARGV[3])
return {json, redis.call('HLEN', KEYS[1])}`,
  local (ops, [participants, identities, sockets, queue], [, pid, member]) {
    const json = ops.hGet(participants, pid)
    if (json === null) return null
    if (socketsOf(ops.hGetAll(sockets), pid) > 0) return 0
    ops.hDel(participants, pid)
    for (const [identity, id] of Object.entries(ops.hGetAll(identities))) {
      if (id === pid) ops.hDel(identities, identity)
    }
    ops.zRem(queue, member)
    return [json, Object.keys(ops.hGetAll(participants)).length]
  }
}
