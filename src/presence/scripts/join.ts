import { presenceKeys } from '../../store/keys.js'
import type { Script } from '../../store/types.js'
import { PATTERNS_LUA, UNKNOWN_SOCKET } from './shared.js'

/**
 * One socket joins one scope.
 * KEYS[1] socket hash, KEYS[2] the socket's scopes, KEYS[3] the scope's users
 * ARGV[1] prefix, ARGV[2] socketId, ARGV[3] scope, ARGV[4..11] PATTERN_ARGS
 * → {first (the user's first socket there), distinct users in the scope} | UNKNOWN_SOCKET
 */
export const joinScript: Script = {
  name: 'presence.join',
  lua: PATTERNS_LUA + `
load_patterns(4)
local sid, scope = ARGV[2], ARGV[3]
local uid = redis.call('HGET', KEYS[1], 'userId')
if not uid then return ${UNKNOWN_SOCKET} end
if redis.call('SADD', KEYS[2], scope) == 0 then return {0, redis.call('SCARD', KEYS[3])} end
local us = key_of(K.userScopeSockets, uid, scope)
redis.call('SADD', us, sid)
redis.call('SADD', key_of(K.userRooms, uid), scope)
redis.call('SADD', KEYS[3], uid)
local first = 0
if redis.call('SCARD', us) == 1 then first = 1 end
return {first, redis.call('SCARD', KEYS[3])}`,
  local (ops, [socketKey, socketRooms, roomUsers], [p, socketId, scope]) {
    const userId = ops.hGet(socketKey, 'userId')
    if (userId === null) return UNKNOWN_SOCKET
    if (ops.sAdd(socketRooms, scope) === 0) return [0, ops.sCard(roomUsers)]
    const userScopeSockets = p + presenceKeys.userScopeSockets(userId, scope)
    ops.sAdd(userScopeSockets, socketId)
    ops.sAdd(p + presenceKeys.userRooms(userId), scope)
    ops.sAdd(roomUsers, userId)
    return [ops.sCard(userScopeSockets) === 1 ? 1 : 0, ops.sCard(roomUsers)]
  }
}
