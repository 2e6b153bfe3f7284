import type { Script } from '../../store/types.js'

/**
 * Takes the socket entries an instance left, once (whichever caller comes first).
 * KEYS[1] the instance's sockets, KEYS[2] the set of instances with sockets
 * ARGV[1] prefix, ARGV[2] instanceId
 * → its members (`roomId|socketId|connectionId`)
 */
export const takeInstanceScript: Script = {
  name: 'sync.takeInstance',
  lua: `
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return members`,
  local (ops, [instanceSockets, instances], [, instanceId]) {
    const members = ops.sMembers(instanceSockets)
    ops.del(instanceSockets)
    ops.sRem(instances, instanceId)
    return members
  }
}
