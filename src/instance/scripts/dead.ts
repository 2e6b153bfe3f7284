import { instanceKeys, KEY_OF_LUA } from '../../store/keys.js'
import type { Script } from '../../store/types.js'

/**
 * The registered instances whose alive key has lapsed, in one atomic look.
 * KEYS[1] the set of instances
 * ARGV[1] prefix, ARGV[2] the alive key pattern (instanceKeys.alive.pattern)
 * → instanceId[]
 */
export const deadScript: Script = {
  name: 'instances.dead',
  lua: KEY_OF_LUA + `
local dead = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', key_of(ARGV[2], id)) == 0 then dead[#dead + 1] = id end
end
return dead`,
  local (ops, [all], [prefix]) {
    return ops.sMembers(all).filter((id) => !ops.exists(prefix + instanceKeys.alive(id)))
  }
}
