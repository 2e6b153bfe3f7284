import { KEY_OF_LUA, presenceKeys, watcherKeys } from '../../store/keys.js'
import type { Script } from '../../store/types.js'

/** Reply of `watchScript` when the socket would watch more users than it may. */
export const OVER_CAP = -1

/**
 * A member of a user's watchers set: the watcher socket and the instance it is on, so that a
 * status goes to each instance that has watchers, to its sockets only (CONTRACT §6, §12).
 */
export const watcherMember = (instanceId: string, socketId: string): string => `${instanceId} ${socketId}`
/** `watcherMember` in Lua, for every script that writes or removes a member. */
export const MEMBER_LUA = 'local function member(iid, sid) return iid .. \' \' .. sid end\n'

/**
 * One socket starts watching users (the caller passes each id once).
 * KEYS[1] the users the socket watches, KEYS[2] the instance's watcher sockets
 * ARGV[1] prefix, ARGV[2] socketId, ARGV[3] the cap, ARGV[4] watchers pattern,
 * ARGV[5] a user's sockets pattern, ARGV[6] instanceId, ARGV[7..] userIds
 * → OVER_CAP (nothing changed), or per user 1 when online, 0 when offline
 */
export const watchScript: Script = {
  name: 'presence.watch',
  lua: KEY_OF_LUA + MEMBER_LUA + `
local sid, cap = ARGV[2], tonumber(ARGV[3])
local me = member(ARGV[6], sid)
local fresh = 0
for i = 7, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 0 then fresh = fresh + 1 end
end
if redis.call('SCARD', KEYS[1]) + fresh > cap then return ${OVER_CAP} end
local online = {}
for i = 7, #ARGV do
  redis.call('SADD', KEYS[1], ARGV[i])
  redis.call('SADD', key_of(ARGV[4], ARGV[i]), me)
  if redis.call('SCARD', key_of(ARGV[5], ARGV[i])) > 0 then online[#online + 1] = 1 else online[#online + 1] = 0 end
end
if #ARGV >= 7 then redis.call('SADD', KEYS[2], sid) end
return online`,
  local (ops, [watching, instanceWatchers], [p, socketId, cap, , , instanceId, ...userIds]) {
    const fresh = userIds.filter((userId) => !ops.sIsMember(watching, userId)).length
    if (ops.sCard(watching) + fresh > Number(cap)) return OVER_CAP
    const online = userIds.map((userId) => {
      ops.sAdd(watching, userId)
      ops.sAdd(p + watcherKeys.watchers(userId), watcherMember(instanceId, socketId))
      return ops.sCard(p + presenceKeys.userSockets(userId)) > 0 ? 1 : 0
    })
    if (userIds.length > 0) ops.sAdd(instanceWatchers, socketId)
    return online
  }
}

/**
 * One socket stops watching users.
 * KEYS[1] the users the socket watches, KEYS[2] the instance's watcher sockets
 * ARGV[1] prefix, ARGV[2] socketId, ARGV[3] watchers pattern, ARGV[4] instanceId, ARGV[5..] userIds
 * → how many users the socket still watches
 */
export const unwatchScript: Script = {
  name: 'presence.unwatch',
  lua: KEY_OF_LUA + MEMBER_LUA + `
local sid = ARGV[2]
local me = member(ARGV[4], sid)
for i = 5, #ARGV do
  if redis.call('SREM', KEYS[1], ARGV[i]) == 1 then redis.call('SREM', key_of(ARGV[3], ARGV[i]), me) end
end
local left = redis.call('SCARD', KEYS[1])
if left == 0 then redis.call('SREM', KEYS[2], sid) end
return left`,
  local (ops, [watching, instanceWatchers], [p, socketId, , instanceId, ...userIds]) {
    for (const userId of userIds) {
      if (ops.sRem(watching, userId) === 1) ops.sRem(p + watcherKeys.watchers(userId), watcherMember(instanceId, socketId))
    }
    const left = ops.sCard(watching)
    if (left === 0) ops.sRem(instanceWatchers, socketId)
    return left
  }
}
