import type { Script } from '../../store/types.js'
import { SOCKETS_OF_LUA, socketsOf } from './sockets-of.js'

/**
 * Removes one connection of a socket (not a later, recovered connection with the same id); when
 * it was the participant's last, its grace deadline is set in the same step, so a seat without
 * a socket always has one (whatever crashes next).
 * KEYS[1] sockets, KEYS[2] online, KEYS[3] the instance's sockets, KEYS[4] participants, KEYS[5] the grace queue
 * ARGV[1] prefix, ARGV[2] socketId, ARGV[3] connectionId, ARGV[4] the instance member, ARGV[5] roomId, ARGV[6] graceAt
 * → {participantId, sockets of it left} | {} when that connection was not attached
 */
export const detachScript: Script = {
  name: 'sync.detach',
  lua: SOCKETS_OF_LUA + `
redis.call('SREM', KEYS[3], ARGV[4])
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v then return {} end
local pid = string.match(v, '^([^|]*)|')
local suffix = '|' .. ARGV[3]
if string.sub(v, -#suffix) ~= suffix then return {} end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[2])
local remaining = sockets_of(KEYS[1], pid)
if remaining == 0 and redis.call('HEXISTS', KEYS[4], pid) == 1 then
  redis.call('ZADD', KEYS[5], ARGV[6], ARGV[5] .. '|' .. pid)
end
return {pid, remaining}`,
  local (ops, [sockets, online, instanceSockets, participants, queue], [, sid, conn, member, roomId, graceAt]) {
    ops.sRem(instanceSockets, member)
    const value = ops.hGet(sockets, sid)
    if (value === null || !value.endsWith(`|${conn}`)) return []
    const pid = value.slice(0, value.indexOf('|'))
    ops.hDel(sockets, sid)
    ops.sRem(online, sid)
    const remaining = socketsOf(ops.hGetAll(sockets), pid)
    if (remaining === 0 && ops.hGet(participants, pid) !== null) ops.zAdd(queue, Number(graceAt), `${roomId}|${pid}`)
    return [pid, remaining]
  }
}
