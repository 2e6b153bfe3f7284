import type { Script, ScriptReply } from '../../store/types.js'
import { DROP_SOCKET_LUA, dropSocket } from './shared.js'

/**
 * One socket leaves every scope and is forgotten.
 * KEYS: none (the socket's keys are found from its id)
 * ARGV[1] prefix, ARGV[2] socketId, ARGV[3..10] PATTERN_ARGS
 * → {} when unknown, else {userId, lastSocket (the user went offline), left: {scope, userId, last, count}[]}
 */
export const disconnectScript: Script = {
  name: 'presence.disconnect',
  lua: DROP_SOCKET_LUA + `
load_patterns(3)
local left = {}
local uid, last = drop_socket(ARGV[2], left)
if not uid then return {} end
return {uid, last, left}`,
  local (ops, _keys, [p, socketId]) {
    const left: ScriptReply[] = []
    const [userId, last] = dropSocket(ops, p, socketId, left)
    return userId === null ? [] : [userId, last, left]
  }
}
