import { presenceKeys } from '../../store/keys.js'
import type { Script } from '../../store/types.js'
import { PATTERNS_LUA } from './shared.js'

/**
 * The users of one scope with how many sockets each has there.
 * KEYS[1] the scope's users
 * ARGV[1] prefix, ARGV[2] scope, ARGV[3..10] PATTERN_ARGS
 * → {userId, sockets, userId, sockets, ...}
 */
export const membersScript: Script = {
  name: 'presence.members',
  lua: PATTERNS_LUA + `
load_patterns(3)
local out = {}
for _, uid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  out[#out + 1] = uid
  out[#out + 1] = redis.call('SCARD', key_of(K.userScopeSockets, uid, ARGV[2]))
end
return out`,
  local (ops, [roomUsers], [p, scope]) {
    return ops.sMembers(roomUsers).flatMap((userId) => [userId, ops.sCard(p + presenceKeys.userScopeSockets(userId, scope))])
  }
}
