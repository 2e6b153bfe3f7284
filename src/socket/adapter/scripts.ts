/**
 * The one atomic write of the sharded adapter: a kept broadcast is appended to its room's
 * recovery log and published on the room's channel in one script, so that every instance
 * receives a room's broadcasts in the log's order (an offset is a position in that log), and a
 * broadcast is never live without being replayable, nor the reverse. The log and the channel share
 * a hash tag (names.ts): on a Redis Cluster the script runs on the master that owns the room.
 *
 * KEYS[1]  the room's recovery log (a stream, capped with MAXLEN ~ and a TTL)
 * ARGV[1]  the room's sharded pub/sub channel
 * ARGV[2]  the encoded message
 * ARGV[3]  MAXLEN of the log
 * ARGV[4]  TTL of the log, ms (maxDisconnectionDuration)
 * ARGV[5]  the room part of the offset (`~` and the room's hash)
 * Returns the log entry's id; the published payload is `id .. ARGV[5]` (the offset), a space, the
 * id of the log's entry before it ('0-0': none), a newline, the message. The previous id comes
 * with the broadcast because an instance that has just subscribed cannot tell it otherwise: the
 * log's newest id it reads as it begins (positions.ts) may already include broadcasts it is
 * about to receive.
 */
export const publishKept = {
  numberOfKeys: 1,
  lua: `
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = newest[1] and newest[1][1] or '0-0'
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'm', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SPUBLISH', ARGV[1], id .. ARGV[5] .. ' ' .. prev .. '\\n' .. ARGV[2])
return id
`
}

/** How a client with the script defined calls it (ioredis `defineCommand`). */
export interface WithPublishKept {
  roomwirePublishKept: (log: string, channel: string, message: string, maxLen: number, ttlMs: number, roomPart: string) => Promise<string>
}
