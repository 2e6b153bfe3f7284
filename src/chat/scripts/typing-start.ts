import type { Script } from '../../store/types.js'

/**
 * The user types in a scope: the indicator is (re)armed; broadcast (1) when it was off or the
 * last broadcast is at least a throttle old.
 *
 * KEYS[1] typing user key (scope, user)   KEYS[2] typing due set
 * ARGV[1] prefix   ARGV[2] now (ms)   ARGV[3] ttl (ms)   ARGV[4] throttle (ms)
 * ARGV[5] due member (scope, user)   ARGV[6] expires at (ms)
 * → 1 to broadcast, 0 otherwise
 */
export const typingStartScript: Script = {
  name: 'typing.start',
  lua: `
local last = redis.call('GET', KEYS[1])
local broadcast = 0
if not last or tonumber(ARGV[2]) - tonumber(last) >= tonumber(ARGV[4]) then
  broadcast = 1
  last = ARGV[2]
end
redis.call('SET', KEYS[1], last, 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
return broadcast`,
  local (ops, [userKey, dueKey], [, now, ttl, throttle, member, expiresAt]) {
    let last = ops.get(userKey)
    let broadcast = 0
    if (last === null || Number(now) - Number(last) >= Number(throttle)) {
      broadcast = 1
      last = now
    }
    ops.set(userKey, last, Number(ttl))
    ops.zAdd(dueKey, Number(expiresAt), member)
    return broadcast
  }
}
