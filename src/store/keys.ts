/**
 * Every logical key name of the store, for JavaScript and Lua alike (the store prepends
 * REDIS_KEY_PREFIX itself). A script gets the keys it knows in advance as KEYS; a key it only
 * learns inside (an instance's alive key for an id read from a set) is built from a pattern
 * passed as ARGV and filled by `KEY_OF_LUA`, so no Lua text spells a key name.
 */

/** A key built from parts; `pattern` marks each part with `{}`, for Lua (see KEY_OF_LUA). */
export type KeyPattern<Parts extends string[]> = ((...parts: Parts) => string) & { readonly pattern: string }

const HOLE = '{}'

function piecesOf (pattern: string, parts: number): string[] {
  const pieces = pattern.split(HOLE)
  if (pieces.length !== parts + 1) throw new Error(`key pattern ${pattern} must have ${parts} part(s)`)
  return pieces
}

// Plain concatenation, no loop: keys are built on every socket event.
function onePart (pattern: string): KeyPattern<[string]> {
  const [head, tail] = piecesOf(pattern, 1)
  return Object.assign((a: string) => head + a + tail, { pattern })
}

function twoParts (pattern: string): KeyPattern<[string, string]> {
  const [head, middle, tail] = piecesOf(pattern, 2)
  return Object.assign((a: string, b: string) => head + a + middle + b + tail, { pattern })
}

/**
 * Lua: `key_of(pattern, part...)` is ARGV[1] (the prefix) .. the pattern with each `{}` replaced
 * by the next part, by plain search (a part may hold any character).
 */
export const KEY_OF_LUA = `
local function key_of(pattern, ...)
  local out, from = {ARGV[1]}, 1
  for _, part in ipairs({...}) do
    local at = string.find(pattern, '{}', from, true)
    out[#out + 1] = string.sub(pattern, from, at - 1)
    out[#out + 1] = part
    from = at + 2
  end
  out[#out + 1] = string.sub(pattern, from)
  return table.concat(out)
end
`

/** Liveness of the instances sharing the store (src/instance). */
export const instanceKeys = {
  /** set of instance ids that announced themselves and have not left */
  all: 'instances',
  /** string (PX ttl): present while the instance's heartbeat is recent */
  alive: onePart('instance:{}:alive'),
  /** hash dead instanceId → the survivor cleaning up after it (until it is done) */
  claims: 'instances:claims',
  /** string (no expiry): set once by the first instance; missing or changed, the store lost its data */
  epoch: 'store:epoch',
  /** string (PX ttl, as alive): the instance's operations snapshot (plugins/operations.ts) */
  ops: onePart('instance:{}:ops')
}

/** Who is connected and where (src/presence; seed 001's layout). */
export const presenceKeys = {
  /** set of user ids with at least one socket in the scope */
  roomUsers: onePart('room:{}:users'),
  /** set of scopes the user is in */
  userRooms: onePart('user:{}:rooms'),
  /** set of the user's socket ids in the scope */
  userScopeSockets: twoParts('user:{}:sockets:{}'),
  /** set of all the user's socket ids */
  userSockets: onePart('user:{}:sockets'),
  /** hash {userId, instance} of one socket */
  socket: onePart('socket:{}'),
  /** set of scopes one socket has joined */
  socketRooms: onePart('socket:{}:rooms'),
  /** set of socket ids connected through one instance (swept when it dies) */
  instanceSockets: onePart('instance:{}:sockets'),
  /** set of user ids with a socket on any instance */
  online: 'online:users'
}

/** Who watches whom for `user:status` (src/presence/watchers.ts; issue 17). */
export const watcherKeys = {
  /** set of `instanceId socketId`: the sockets watching the user, and the instance each is on */
  watchers: onePart('watchers:{}'),
  /** set of user ids one socket watches */
  watching: onePart('socket:{}:watching'),
  /** set of socket ids of one instance that watch someone (dropped when it dies) */
  instance: onePart('instance:{}:watchers')
}

/** Public-room connections per hashed IP (src/public-rooms slots). */
export const slotKeys = {
  /** sorted set `{instanceId}|{socketId}` → acquired at (ms), one per hashed IP */
  ip: onePart('slots:{}'),
  /** set `{ipHash}|{socketId}` of the slots one instance holds (released when it goes) */
  instance: onePart('instance:{}:slots')
}

/** Typing indicators (chat). */
export const typingKeys = {
  /** string (PX ttl): when the user's last broadcast typing start in the scope was (ms) */
  user: twoParts('typing:{}:{}'),
  /** sorted set of `member(scope, userId)` → expires at (ms) */
  due: 'typing:due',
  /** A due-set member, not a key; a newline never appears in a scope or a user id. */
  member: (scope: string, userId: string) => `${scope}\n${userId}`
}

/** Chat's view of users (src/chat/profiles.ts). */
export const chatKeys = {
  /** string (PX 24 h): JSON {username, displayName} of a user who connected, for other instances */
  profile: onePart('chat:profile:{}')
}

/** The service API's connection registry and room activity (src/realtime). */
export const realtimeKeys = {
  /** hash socketId → JSON [connectedAt, instanceId, userId, username, displayName] (src/service-api/registry.ts) */
  sockets: 'realtime:sockets',
  /** hash socketId → last client event (ms); none before its first (its connectedAt then) */
  activity: 'realtime:activity',
  /** counter of connections accepted, cluster-wide */
  connections: 'realtime:connections',
  /** hash roomId → last join or leave (ms) */
  roomActivity: 'realtime:room-activity',
  /** string (ttl): why the server disconnected a socket, read by the instance that sees it go */
  kick: onePart('realtime:kick:{}')
}

/** Watch-party rooms (src/sync; CONTRACT §5 names the first three). */
export const syncKeys = {
  /** string: JSON PlaybackState */
  playback: onePart('room:{}:playback'),
  /** hash participantId → JSON StoredParticipant (seats, kept through the grace) */
  participants: onePart('room:{}:participants'),
  /** set of socket ids in the room now */
  online: onePart('room:{}:online'),
  /** hash socketId → `participantId|instanceId|connectionId` */
  sockets: onePart('room:{}:sockets'),
  /** hash `user:{userId}` | `guest:{sha256(resumeToken)}` → participantId */
  identities: onePart('room:{}:identities'),
  /** set `roomId|socketId|connectionId` of one instance's room sockets (swept when it dies) */
  instanceSockets: onePart('sync:instance:{}:sockets'),
  /** set of instance ids that hold room sockets */
  instances: 'sync:instances'
}

/** Every key of one watch-party room (they share its TTL). */
export const roomKeys = (roomId: string): string[] => [
  syncKeys.participants(roomId), syncKeys.identities(roomId), syncKeys.online(roomId),
  syncKeys.sockets(roomId), syncKeys.playback(roomId)
]

/** sorted set member → due at (ms): a deadline queue shared by all instances (src/services/deadlines) */
export const deadlineKey = onePart('deadlines:{}')

/** The deadline queues in use. */
export const deadlineQueues = {
  /** watch-party reconnect grace: `roomId|participantId` members */
  syncGrace: 'sync-grace'
}

/**
 * Socket event limits (rate-limiter-flexible): `limit:{name}` is its keyPrefix, with the store
 * prefix in front; the library appends `:{key}` itself.
 */
export const limiterKeyPrefix = onePart('limit:{}')

/** The socket event limits in use (names passed to `app.limiters.create`). */
export const limiterNames = {
  /** room password attempts per hashed IP (sync) */
  syncPassword: 'sync-password',
  /** chat messages per user per minute */
  chatMessages: 'chat:messages'
}

/** @fastify/rate-limit's nameSpace for REST limits (keys `rl:{ipHash}`), with the store prefix in front. */
export const restRateLimitNamespace = 'rl:'

/**
 * The hash tag Redis Cluster reads from `key` (the text between its first `{` and the first `}`
 * after it, when not empty), or null: the key then hashes whole.
 */
export function hashTagOf (key: string): string | null {
  const open = key.indexOf('{')
  if (open === -1) return null
  const close = key.indexOf('}', open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : null
}

/**
 * On a Redis Cluster, what the store puts in front of every state key (docs/scaling.md): the
 * REDIS_KEY_PREFIX and one hash tag per deployment, `{prefix}` (without its trailing `:`, or
 * `roomwire` when empty). Scripts touch the keys of many users, rooms and instances at once and
 * build some inside Lua (KEY_OF_LUA), so per-entity tags could not keep them in one slot; one
 * tag does, and it follows the prefix, so keys built in Lua carry it too. A prefix that holds a
 * tag of its own (`app:{eu}:`) is the operator's choice and kept as it is; stray braces are refused.
 */
export function clusterStatePrefix (prefix: string): string {
  if (hashTagOf(prefix) !== null) return prefix
  if (/[{}]/.test(prefix)) throw new Error(`must not hold { or } but as a hash tag, {tag} (got ${JSON.stringify(prefix)})`)
  const tag = prefix.replace(/:+$/, '')
  return `${prefix}{${tag === '' ? 'roomwire' : tag}}:`
}
