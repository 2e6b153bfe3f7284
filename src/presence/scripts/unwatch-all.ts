import { KEY_OF_LUA, watcherKeys } from '../../store/keys.js'
import type { Script, SyncOps } from '../../store/types.js'
import { MEMBER_LUA, watcherMember } from './watch.js'

// Forgets one socket's watchlist: out of each watched user's watchers, then the list itself.
const FORGET_LUA = KEY_OF_LUA + MEMBER_LUA + `
local function forget(iid, sid, watchers_pattern, watching_key)
  local me = member(iid, sid)
  for _, uid in ipairs(redis.call('SMEMBERS', watching_key)) do
    redis.call('SREM', key_of(watchers_pattern, uid), me)
  end
  redis.call('DEL', watching_key)
end
`

function forget (ops: SyncOps, p: string, instanceId: string, socketId: string, watching: string): void {
  for (const userId of ops.sMembers(watching)) ops.sRem(p + watcherKeys.watchers(userId), watcherMember(instanceId, socketId))
  ops.del(watching)
}

/**
 * A socket went: it watches no one any more (work in proportion to its watchlist).
 * KEYS[1] the users the socket watches, KEYS[2] the instance's watcher sockets
 * ARGV[1] prefix, ARGV[2] socketId, ARGV[3] watchers pattern, ARGV[4] instanceId
 */
export const unwatchSocketScript: Script = {
  name: 'presence.unwatchSocket',
  lua: FORGET_LUA + `
forget(ARGV[4], ARGV[2], ARGV[3], KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1`,
  local (ops, [watching, instanceWatchers], [p, socketId, , instanceId]) {
    forget(ops, p, instanceId, socketId, watching)
    ops.sRem(instanceWatchers, socketId)
    return 1
  }
}

/**
 * Every watcher socket of one instance (a dead one, or this one shutting down) is forgotten.
 * KEYS[1] the instance's watcher sockets
 * ARGV[1] prefix, ARGV[2] watchers pattern, ARGV[3] a socket's watchlist pattern, ARGV[4] instanceId
 * → how many sockets were forgotten
 */
export const unwatchInstanceScript: Script = {
  name: 'presence.unwatchInstance',
  lua: FORGET_LUA + `
local sids = redis.call('SMEMBERS', KEYS[1])
for _, sid in ipairs(sids) do forget(ARGV[4], sid, ARGV[2], key_of(ARGV[3], sid)) end
redis.call('DEL', KEYS[1])
return #sids`,
  local (ops, [instanceWatchers], [p, , , instanceId]) {
    const socketIds = ops.sMembers(instanceWatchers)
    for (const socketId of socketIds) forget(ops, p, instanceId, socketId, p + watcherKeys.watching(socketId))
    ops.del(instanceWatchers)
    return socketIds.length
  }
}
