import type { Script } from '../../store/types.js'
import { KEY_OF_LUA, typingKeys } from '../../store/keys.js'
import { parseMember } from './typing-member.js'

/**
 * Pops the indicators that ran out, deleting their keys; each is popped by exactly one caller.
 *
 * KEYS[1] typing due set
 * ARGV[1] prefix   ARGV[2] now (ms)   ARGV[3] at most this many   ARGV[4] typingKeys.user.pattern
 * → the due members popped
 */
export const typingExpireScript: Script = {
  name: 'typing.expire',
  lua: KEY_OF_LUA + `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  local cut = string.find(member, '\\n', 1, true)
  redis.call('DEL', key_of(ARGV[4], string.sub(member, 1, cut - 1), string.sub(member, cut + 1)))
end
return due`,
  local (ops, [dueKey], [p, now, limit]) {
    const due = ops.zRangeByScore(dueKey, -Infinity, Number(now)).slice(0, Number(limit))
    for (const member of due) {
      ops.zRem(dueKey, member)
      const { scope, userId } = parseMember(member)
      ops.del(p + typingKeys.user(scope, userId))
    }
    return due
  }
}
