/**
 * Every name the sharded adapter uses in Redis (CONTRACT §12, §13). Each starts with
 * REDIS_KEY_PREFIX; the hash tag is the namespace and room, so that on a Redis Cluster each room's
 * channel and recovery log share one slot (one Lua script writes both) while different rooms
 * spread over the masters. The namespace's own traffic (broadcasts to everyone or to several
 * rooms, requests between instances) uses the room `''`.
 */

/** The hash tag of one room of one namespace. */
function tag (nsp: string, room: string): string {
  return `{${nsp}#${room}}`
}

/** The sharded pub/sub channel of a room (`''`: the namespace's). */
export function roomChannel (prefix: string, nsp: string, room: string): string {
  return `${prefix}sio#${tag(nsp, room)}`
}

/** The channel on which one adapter receives answers to its requests. */
export function responseChannel (prefix: string, nsp: string, uid: string): string {
  return `${prefix}sio#${tag(nsp, '')}#${uid}`
}

/** The capped stream of a room's broadcasts kept for connection state recovery. */
export function roomLog (prefix: string, nsp: string, room: string): string {
  return `${prefix}sio:log:${tag(nsp, room)}`
}

/** A disconnected socket's session, kept for maxDisconnectionDuration. */
export function sessionKey (prefix: string, nsp: string, pid: string): string {
  return `${prefix}sio:session:${tag(nsp, pid)}`
}

/** FNV-1a of a room name in base 36: offsets name their room in a few characters. */
export function roomHash (room: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < room.length; i++) {
    hash ^= room.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0).toString(36)
}

/** The offset a client gets with a kept broadcast: the room log's entry id and the room. */
export function offsetOf (room: string, id: string): string {
  return `${id}~${roomHash(room)}`
}

/** Redis stream ids (`ms-seq`) compared: negative when `a` is older. */
export function compareIds (a: string, b: string): number {
  const [am, as] = a.split('-').map(Number)
  const [bm, bs] = b.split('-').map(Number)
  return am !== bm ? am - bm : as - bs
}

/** A socket id (Socket.IO's base64id: 20 characters), not a room of ours (which all have a `:` or are words). */
export function looksLikeSocketId (room: string): boolean {
  return room.length === 20 && /^[\w-]+$/.test(room)
}

const INSTANCE_ROOM = '~instance:'

/**
 * The marker room of a broadcast to sockets that are all on one instance (the outbox adds it,
 * src/socket/outbox.ts): the sharded adapter publishes it to that instance's own channel only.
 * No socket is ever in it, so any other adapter delivers to the listed sockets as usual.
 */
export function instanceRoom (instanceId: string): string {
  return `${INSTANCE_ROOM}${instanceId}`
}

/** The instance a broadcast's rooms name with a marker room, if any. */
export function instanceIn (rooms: Iterable<string>): string | undefined {
  for (const room of rooms) if (room.startsWith(INSTANCE_ROOM)) return room.slice(INSTANCE_ROOM.length)
  return undefined
}

/** The room whose log and channel a broadcast uses: its only room, or the namespace's (`''`). */
export function roomOf (rooms: Iterable<string>): string {
  const list = [...rooms]
  return list.length === 1 ? list[0] : ''
}
