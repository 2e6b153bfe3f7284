import { presenceKeys } from '../store/keys.js'
import type { Script, ScriptReply, SyncOps } from '../store/types.js'

export { presenceKeys }

/** Reply codes beyond the data itself. */
export const UNKNOWN_SOCKET = -1
export const OTHER_USER = -2

// Shared Lua: one socket leaves one scope; returns whether that was the user's last socket
// there, and the distinct users left in it.
const LEAVE_SCOPE_LUA = `
local function leave_scope(p, sid, uid, scope)
  local us = p .. 'user:' .. uid .. ':sockets:' .. scope
  local ruk = p .. 'room:' .. scope .. ':users'
  redis.call('SREM', us, sid)
  local last = 0
  if redis.call('SCARD', us) == 0 then
    last = 1
    redis.call('SREM', p .. 'user:' .. uid .. ':rooms', scope)
    redis.call('SREM', ruk, uid)
  end
  return last, redis.call('SCARD', ruk)
end
`

// Shared Lua: removes every entry of one socket, appending {scope, userId, last, count} to
// `left`; returns the user (false when unknown) and whether that was their last socket.
const DROP_SOCKET_LUA = LEAVE_SCOPE_LUA + `
local function drop_socket(p, sid, left)
  local sk = p .. 'socket:' .. sid
  local uid = redis.call('HGET', sk, 'userId')
  if not uid then return false, 0 end
  local inst = redis.call('HGET', sk, 'instance')
  local rk = sk .. ':rooms'
  for _, scope in ipairs(redis.call('SMEMBERS', rk)) do
    local last, count = leave_scope(p, sid, uid, scope)
    left[#left + 1] = {scope, uid, last, count}
  end
  redis.call('DEL', sk, rk)
  if inst then redis.call('SREM', p .. 'instance:' .. inst .. ':sockets', sid) end
  local uk = p .. 'user:' .. uid .. ':sockets'
  redis.call('SREM', uk, sid)
  if redis.call('SCARD', uk) > 0 then return uid, 0 end
  redis.call('SREM', p .. 'online:users', uid)
  return uid, 1
end
`

function leaveScope (ops: SyncOps, p: string, socketId: string, userId: string, scope: string): [number, number] {
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

function dropSocket (ops: SyncOps, p: string, socketId: string, left: ScriptReply[]): [string | null, number] {
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

/** KEYS: socket, userSockets, instanceSockets, online; ARGV: p, userId, instanceId, socketId → first | OTHER_USER */
export const connectScript: Script = {
  name: 'presence.connect',
  lua: `
local owner = redis.call('HGET', KEYS[1], 'userId')
if owner and owner ~= ARGV[2] then return ${OTHER_USER} end
redis.call('HSET', KEYS[1], 'userId', ARGV[2], 'instance', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('SADD', KEYS[4], ARGV[2])
local added = redis.call('SADD', KEYS[2], ARGV[4])
if added == 1 and redis.call('SCARD', KEYS[2]) == 1 then return 1 end
return 0`,
  local (ops, [socketKey, userSockets, instanceSockets, online], [, userId, instanceId, socketId]) {
    const owner = ops.hGet(socketKey, 'userId')
    if (owner !== null && owner !== userId) return OTHER_USER
    ops.hSet(socketKey, { userId, instance: instanceId })
    ops.sAdd(instanceSockets, socketId)
    ops.sAdd(online, userId)
    const added = ops.sAdd(userSockets, socketId)
    return added === 1 && ops.sCard(userSockets) === 1 ? 1 : 0
  }
}

/** KEYS: socket, socketRooms, roomUsers; ARGV: p, socketId, scope → {first, count} | UNKNOWN_SOCKET */
export const joinScript: Script = {
  name: 'presence.join',
  lua: `
local p, sid, scope = ARGV[1], ARGV[2], ARGV[3]
local uid = redis.call('HGET', KEYS[1], 'userId')
if not uid then return ${UNKNOWN_SOCKET} end
if redis.call('SADD', KEYS[2], scope) == 0 then return {0, redis.call('SCARD', KEYS[3])} end
local us = p .. 'user:' .. uid .. ':sockets:' .. scope
redis.call('SADD', us, sid)
redis.call('SADD', p .. 'user:' .. uid .. ':rooms', scope)
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

/** KEYS: socket, socketRooms, roomUsers; ARGV: p, socketId, scope → {left, userId|'', last, count} */
export const leaveScript: Script = {
  name: 'presence.leave',
  lua: LEAVE_SCOPE_LUA + `
local p, sid, scope = ARGV[1], ARGV[2], ARGV[3]
local uid = redis.call('HGET', KEYS[1], 'userId')
if not uid then return {0, '', 0, redis.call('SCARD', KEYS[3])} end
if redis.call('SREM', KEYS[2], scope) == 0 then return {0, uid, 0, redis.call('SCARD', KEYS[3])} end
local last, count = leave_scope(p, sid, uid, scope)
return {1, uid, last, count}`,
  local (ops, [socketKey, socketRooms, roomUsers], [p, socketId, scope]) {
    const userId = ops.hGet(socketKey, 'userId')
    if (userId === null) return [0, '', 0, ops.sCard(roomUsers)]
    if (ops.sRem(socketRooms, scope) === 0) return [0, userId, 0, ops.sCard(roomUsers)]
    const [last, count] = leaveScope(ops, p, socketId, userId, scope)
    return [1, userId, last, count]
  }
}

/** ARGV: p, socketId → {} when unknown, else {userId, lastSocket, left[]} */
export const disconnectScript: Script = {
  name: 'presence.disconnect',
  lua: DROP_SOCKET_LUA + `
local left = {}
local uid, last = drop_socket(ARGV[1], ARGV[2], left)
if not uid then return {} end
return {uid, last, left}`,
  local (ops, _keys, [p, socketId]) {
    const left: ScriptReply[] = []
    const [userId, last] = dropSocket(ops, p, socketId, left)
    return userId === null ? [] : [userId, last, left]
  }
}

/**
 * KEYS: instanceSockets, alive, instances; ARGV: p, instanceId, own ('1' = this instance's own
 * graceful removal: no liveness check, membership left to the registry) → {removed, left[], offline[]}.
 * One script per instance is what makes a race of sweepers report each entry exactly once.
 */
export const removeInstanceScript: Script = {
  name: 'presence.removeInstance',
  lua: DROP_SOCKET_LUA + `
local own = ARGV[3] == '1'
if not own and redis.call('EXISTS', KEYS[2]) == 1 then return {0, {}, {}} end
local left, offline = {}, {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local uid, last = drop_socket(ARGV[1], sid, left)
  if uid and last == 1 then offline[#offline + 1] = uid end
end
redis.call('DEL', KEYS[1])
if own then return {1, left, offline} end
return {redis.call('SREM', KEYS[3], ARGV[2]), left, offline}`,
  local (ops, [instanceSockets, alive, instances], [p, instanceId, ownFlag]) {
    const own = ownFlag === '1'
    if (!own && ops.exists(alive)) return [0, [], []]
    const left: ScriptReply[] = []
    const offline: string[] = []
    for (const socketId of ops.sMembers(instanceSockets)) {
      const [userId, last] = dropSocket(ops, p, socketId, left)
      if (userId !== null && last === 1) offline.push(userId)
    }
    ops.del(instanceSockets)
    return [own ? 1 : ops.sRem(instances, instanceId), left, offline]
  }
}

/** KEYS: roomUsers; ARGV: p, scope → {userId, sockets, userId, sockets, ...} */
export const membersScript: Script = {
  name: 'presence.members',
  lua: `
local out = {}
for _, uid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  out[#out + 1] = uid
  out[#out + 1] = redis.call('SCARD', ARGV[1] .. 'user:' .. uid .. ':sockets:' .. ARGV[2])
end
return out`,
  local (ops, [roomUsers], [p, scope]) {
    return ops.sMembers(roomUsers).flatMap((userId) => [userId, ops.sCard(p + presenceKeys.userScopeSockets(userId, scope))])
  }
}
