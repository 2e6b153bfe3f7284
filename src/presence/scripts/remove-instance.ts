import type { Script, ScriptReply } from '../../store/types.js'
import { DROP_SOCKET_LUA, dropSocket } from './shared.js'

/**
 * Drops every socket of one instance (a dead one, or this one shutting down). Which survivor
 * runs it for a dead instance is decided by the instance lifecycle's claim.
 * KEYS[1] the instance's sockets
 * ARGV[1] prefix, ARGV[2..9] PATTERN_ARGS
 * → {left: {scope, userId, last, count}[], offline: userId[]}
 */
export const removeInstanceScript: Script = {
  name: 'presence.removeInstance',
  lua: DROP_SOCKET_LUA + `
load_patterns(2)
local left, offline = {}, {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local uid, last = drop_socket(sid, left)
  if uid and last == 1 then offline[#offline + 1] = uid end
end
redis.call('DEL', KEYS[1])
return {left, offline}`,
  local (ops, [instanceSockets], [p]) {
    const left: ScriptReply[] = []
    const offline: string[] = []
    for (const socketId of ops.sMembers(instanceSockets)) {
      const [userId, last] = dropSocket(ops, p, socketId, left)
      if (userId !== null && last === 1) offline.push(userId)
    }
    ops.del(instanceSockets)
    return [left, offline]
  }
}
