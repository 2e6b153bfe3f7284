import type { Script } from '../../store/types.js'
import { LEAVE_SCOPE_LUA, leaveScope } from './shared.js'

/**
 * One socket leaves one scope.
 * KEYS[1] socket hash, KEYS[2] the socket's scopes, KEYS[3] the scope's users
 * ARGV[1] prefix, ARGV[2] socketId, ARGV[3] scope, ARGV[4..11] PATTERN_ARGS
 * → {left (it was there), userId or '', last (the user's last socket there), distinct users in the scope}
 */
export const leaveScript: Script = {
  name: 'presence.leave',
  lua: LEAVE_SCOPE_LUA + `
load_patterns(4)
local sid, scope = ARGV[2], ARGV[3]
local uid = redis.call('HGET', KEYS[1], 'userId')
if not uid then return {0, '', 0, redis.call('SCARD', KEYS[3])} end
if redis.call('SREM', KEYS[2], scope) == 0 then return {0, uid, 0, redis.call('SCARD', KEYS[3])} end
local last, count = leave_scope(sid, uid, scope)
return {1, uid, last, count}`,
  local (ops, [socketKey, socketRooms, roomUsers], [p, socketId, scope]) {
    const userId = ops.hGet(socketKey, 'userId')
    if (userId === null) return [0, '', 0, ops.sCard(roomUsers)]
    if (ops.sRem(socketRooms, scope) === 0) return [0, userId, 0, ops.sCard(roomUsers)]
    const [last, count] = leaveScope(ops, p, socketId, userId, scope)
    return [1, userId, last, count]
  }
}
