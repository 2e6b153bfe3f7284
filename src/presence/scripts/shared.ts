import { KEY_OF_LUA, presenceKeys } from '../../store/keys.js'
import type { ScriptReply, SyncOps } from '../../store/types.js'

/**
 * What the presence scripts share. Which users' and scopes' keys a script touches (a socket's
 * scopes) is only known inside it, so every script gets the presence key patterns as the last
 * ARGV slots, `PATTERN_ARGS` in this order, and builds keys with `key_of`.
 */
export const PATTERN_ARGS = [
  presenceKeys.socket.pattern, presenceKeys.socketRooms.pattern, presenceKeys.userSockets.pattern,
  presenceKeys.userRooms.pattern, presenceKeys.userScopeSockets.pattern, presenceKeys.roomUsers.pattern,
  presenceKeys.instanceSockets.pattern, presenceKeys.online
]

/** Reply codes beyond the data itself. */
export const UNKNOWN_SOCKET = -1
export const OTHER_USER = -2

/** Lua: `load_patterns(first)` reads PATTERN_ARGS from ARGV[first] on into `K`. */
export const PATTERNS_LUA = KEY_OF_LUA + `
local K = {}
local function load_patterns(first)
  K.socket, K.socketRooms, K.userSockets, K.userRooms = ARGV[first], ARGV[first + 1], ARGV[first + 2], ARGV[first + 3]
  K.userScopeSockets, K.roomUsers, K.instanceSockets, K.online = ARGV[first + 4], ARGV[first + 5], ARGV[first + 6], ARGV[first + 7]
end
`

// One socket leaves one scope; returns whether that was the user's last socket there, and the
// distinct users left in it.
export const LEAVE_SCOPE_LUA = PATTERNS_LUA + `
local function leave_scope(sid, uid, scope)
  local us = key_of(K.userScopeSockets, uid, scope)
  local ruk = key_of(K.roomUsers, scope)
  redis.call('SREM', us, sid)
  local last = 0
  if redis.call('SCARD', us) == 0 then
    last = 1
    redis.call('SREM', key_of(K.userRooms, uid), scope)
    redis.call('SREM', ruk, uid)
  end
  return last, redis.call('SCARD', ruk)
end
`

export function leaveScope (ops: SyncOps, p: string, socketId: string, userId: string, scope: string): [number, number] {
  const userScopeSockets = p + presenceKeys.userScopeSockets(userId, scope)
  const roomUsers = p + presenceKeys.roomUsers(scope)
  ops.sRem(userScopeSockets, socketId)
  let last = 0
  if (ops.sCard(userScopeSockets) === 0) {
    last = 1
    ops.sRem(p + presenceKeys.userRooms(userId), scope)
    ops.sRem(roomUsers, userId)
  }
  return [last, ops.sCard(roomUsers)]
}

// Removes every entry of one socket, appending {scope, userId, last, count} to `left`; returns
// the user (false when unknown) and whether that was their last socket.
export const DROP_SOCKET_LUA = LEAVE_SCOPE_LUA + `
local function drop_socket(sid, left)
  local sk = key_of(K.socket, sid)
  local uid = redis.call('HGET', sk, 'userId')
  if not uid then return false, 0 end
  local inst = redis.call('HGET', sk, 'instance')
  local rk = key_of(K.socketRooms, sid)
  for _, scope in ipairs(redis.call('SMEMBERS', rk)) do
    local last, count = leave_scope(sid, uid, scope)
    left[#left + 1] = {scope, uid, last, count}
  end
  redis.call('DEL', sk, rk)
  if inst then redis.call('SREM', key_of(K.instanceSockets, inst), sid) end
  local uk = key_of(K.userSockets, uid)
  redis.call('SREM', uk, sid)
  if redis.call('SCARD', uk) > 0 then return uid, 0 end
  redis.call('SREM', key_of(K.online), uid)
  return uid, 1
end
`

export function dropSocket (ops: SyncOps, p: string, socketId: string, left: ScriptReply[]): [string | null, number] {
  const socketKey = p + presenceKeys.socket(socketId)
  const userId = ops.hGet(socketKey, 'userId')
  if (userId === null) return [null, 0]
  const instanceId = ops.hGet(socketKey, 'instance')
  const roomsKey = p + presenceKeys.socketRooms(socketId)
  for (const scope of ops.sMembers(roomsKey)) {
    const [last, count] = leaveScope(ops, p, socketId, userId, scope)
    left.push([scope, userId, last, count])
  }
  ops.del(socketKey)
  ops.del(roomsKey)
  if (instanceId !== null) ops.sRem(p + presenceKeys.instanceSockets(instanceId), socketId)
  const userSockets = p + presenceKeys.userSockets(userId)
  ops.sRem(userSockets, socketId)
  if (ops.sCard(userSockets) > 0) return [userId, 0]
  ops.sRem(p + presenceKeys.online, userId)
  return [userId, 1]
}
