import type { Script } from '../../store/types.js'

/**
 * Stops a user's indicators in some scopes. One is on from a start until a stop, a clear or the
 * sweep reports it: the due entry says so even when the key's own PX has just fired.
 *
 * KEYS[1] typing due set   KEYS[1 + i] typing user key of scope i
 * ARGV[1] prefix   ARGV[1 + i] due member of scope i
 * → the due members of the scopes where the user was typing
 */
export const typingStopScript: Script = {
  name: 'typing.stop',
  lua: `
local stopped = {}
for i = 2, #KEYS do
  local existed = redis.call('DEL', KEYS[i])
  local pending = redis.call('ZREM', KEYS[1], ARGV[i])
  if existed == 1 or pending == 1 then stopped[#stopped + 1] = ARGV[i] end
end
return stopped`,
  local (ops, [dueKey, ...userKeys], [, ...members]) {
    return members.filter((member, i) => {
      const existed = ops.del(userKeys[i])
      const pending = ops.zRem(dueKey, member)
      return existed === 1 || pending === 1
    })
  }
}
