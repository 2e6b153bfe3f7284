import type { Script } from '../../store/types.js'
import { KEY_OF_LUA } from '../../store/keys.js'
import { keyOf, splitMember } from './prune.js'

/**
 * Frees every slot one instance holds (its graceful shutdown, or its death seen by a survivor).
 * KEYS[1]  the instance's slot set ('{ipHash}|{socketId}' members)
 * ARGV[1]  prefix   ARGV[2] instanceId   ARGV[3] pattern of an IP's slot set (`{}`: the IP hash)
 * Reply: slots freed
 */
export const releaseInstanceSlotsScript: Script = {
  name: 'slots.releaseInstance',
  lua: KEY_OF_LUA + `
local entries = redis.call('SMEMBERS', KEYS[1])
for _, entry in ipairs(entries) do
  local ip, sid = string.match(entry, '^([^|]*)|(.*)$')
  redis.call('ZREM', key_of(ARGV[3], ip), ARGV[2] .. '|' .. sid)
end
redis.call('DEL', KEYS[1])
return #entries`,
  local (ops, [instanceKey], [p, instanceId, ipPattern]) {
    const entries = ops.sMembers(instanceKey)
    for (const entry of entries) {
      const [ip, socketId] = splitMember(entry)
      ops.zRem(keyOf(p, ipPattern, ip), `${instanceId}|${socketId}`)
    }
    ops.del(instanceKey)
    return entries.length
  }
}
