/**
 * Shared by the detach and release scripts: how many sockets of one participant a room's
 * sockets hash holds (values are `participantId|instanceId|connectionId`).
 */

/** Lua: `sockets_of(key, pid)`, prepended to the scripts that need it. */
export const SOCKETS_OF_LUA = `
local function sockets_of(key, pid)
  local n = 0
  local all = redis.call('HGETALL', key)
  for i = 2, #all, 2 do
    if string.sub(all[i], 1, #pid + 1) == pid .. '|' then n = n + 1 end
  end
  return n
end
`

/** The memory twin of `sockets_of`. */
export function socketsOf (all: Record<string, string>, pid: string): number {
  return Object.values(all).filter((v) => v.startsWith(`${pid}|`)).length
}
