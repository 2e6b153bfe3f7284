import type { Script } from '../../store/types.js'
import { OTHER_USER } from './shared.js'

/**
 * Registers a socket of a user.
 * KEYS[1] socket hash, KEYS[2] the user's sockets, KEYS[3] the instance's sockets, KEYS[4] online users
 * ARGV[1] prefix, ARGV[2] userId, ARGV[3] instanceId, ARGV[4] socketId
 * → 1 when it is the user's first socket, 0 otherwise, OTHER_USER when the socket belongs to another user
 */
export const connectScript: Script = {
  name: 'presence.connect',
  lua: `
local owner = redis.call('HGET', KEYS[1], 'userId')
if owner and owner ~= ARGV[2] then return ${OTHER_USER} end
redis.call('HSET', KEYS[1], 'userId', ARGV[2], 'instance', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('SADD', KEYS[4], ARGV[2])
local added = redis.call('SADD', KEYS[2], ARGV[4])
if added == 1 and redis.call('SCARD', KEYS[2]) == 1 then return 1 end
return 0`,
  local (ops, [socketKey, userSockets, instanceSockets, online], [, userId, instanceId, socketId]) {
    const owner = ops.hGet(socketKey, 'userId')
    if (owner !== null && owner !== userId) return OTHER_USER
    ops.hSet(socketKey, { userId, instance: instanceId })
    ops.sAdd(instanceSockets, socketId)
    ops.sAdd(online, userId)
    const added = ops.sAdd(userSockets, socketId)
    return added === 1 && ops.sCard(userSockets) === 1 ? 1 : 0
  }
}
