import type { Participant, PlaybackState } from '../contract/sync.js'
import type { Script, ScriptReply, Store } from '../store/types.js'

/**
 * The store half of a watch-party room (CONTRACT §5 names the first three keys):
 * - `room:{id}:playback`     JSON PlaybackState
 * - `room:{id}:participants` hash participantId → JSON StoredParticipant (seats, kept through the grace)
 * - `room:{id}:online`       set of socket ids in the room now
 * - `room:{id}:sockets`      hash socketId → `participantId|instanceId|connectionId`
 * - `room:{id}:identities`   hash `user:{userId}` | `guest:{sha256(resumeToken)}` → participantId
 * and, to sweep a crashed instance, `sync:instance:{id}:sockets` (members `roomId|socketId|connectionId`)
 * and the set `sync:instances`. Every room key's TTL is the room's and is refreshed on activity.
 */
export const syncKeys = {
  playback: (roomId: string) => `room:${roomId}:playback`,
  participants: (roomId: string) => `room:${roomId}:participants`,
  online: (roomId: string) => `room:${roomId}:online`,
  sockets: (roomId: string) => `room:${roomId}:sockets`,
  identities: (roomId: string) => `room:${roomId}:identities`,
  instanceSockets: (instanceId: string) => `sync:instance:${instanceId}:sockets`,
  instances: 'sync:instances'
}

export const roomKeys = (roomId: string): string[] => [
  syncKeys.participants(roomId), syncKeys.identities(roomId), syncKeys.online(roomId),
  syncKeys.sockets(roomId), syncKeys.playback(roomId)
]

/** A seat as stored: the wire participant plus the identity key that finds it again. */
export interface StoredParticipant extends Participant {
  identity: string
}

export const toWireParticipant = ({ identity: _identity, ...p }: StoredParticipant): Participant => p

// Lua helper: how many sockets of participant `pid` the sockets hash `key` holds.
const SOCKETS_OF_LUA = `
local function sockets_of(key, pid)
  local n = 0
  local all = redis.call('HGETALL', key)
  for i = 2, #all, 2 do
    if string.sub(all[i], 1, #pid + 1) == pid .. '|' then n = n + 1 end
  end
  return n
end
`

function socketsOf (all: Record<string, string>, pid: string): number {
  return Object.values(all).filter((v) => v.startsWith(`${pid}|`)).length
}

/**
 * KEYS: the room keys (participants, identities, online, sockets, playback), the grace queue;
 * ARGV: p, lookup identity, newId, newJson, max, ttlMs, reserve ('1' writes the seat, '0' only
 * looks), the new seat's identity, its grace member, graceAt.
 * → {'existing', json} | {'full'} | {'free'} | {'new', json}: capacity and the seat in one step,
 * so instances racing for the last seat cannot overfill the room. A new seat has no socket yet,
 * so it starts with a grace deadline (attach removes it): a crash before attaching frees it.
 */
export const claimSeatScript: Script = {
  name: 'sync.claimSeat',
  lua: `
local existing = redis.call('HGET', KEYS[2], ARGV[2])
if existing then
  local json = redis.call('HGET', KEYS[1], existing)
  if json then return {'existing', json} end
end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return {'full'} end
if ARGV[7] ~= '1' then return {'free'} end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[8], ARGV[3])
for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
redis.call('ZADD', KEYS[6], ARGV[10], ARGV[9])
return {'new', ARGV[4]}`,
  local (ops, keys, [, identity, newId, json, max, ttlMs, reserve, newIdentity, member, graceAt]) {
    const [participants, identities] = keys
    const existing = ops.hGet(identities, identity)
    if (existing !== null) {
      const stored = ops.hGet(participants, existing)
      if (stored !== null) return ['existing', stored]
    }
    if (Object.keys(ops.hGetAll(participants)).length >= Number(max)) return ['full']
    if (reserve !== '1') return ['free']
    ops.hSet(participants, { [newId]: json })
    ops.hSet(identities, { [newIdentity]: newId })
    for (const key of keys.slice(0, 5)) ops.pexpire(key, Number(ttlMs))
    ops.zAdd(keys[5], Number(graceAt), member)
    return ['new', json]
  }
}

/**
 * KEYS: participants, sockets, online, instance sockets, sync:instances, identities, playback,
 * the grace queue; ARGV: p, participantId, socketId, socketValue, instanceMember, instanceId,
 * ttlMs, grace member.
 * → 1 (attached; a pending grace is cancelled in the same step), or 0 when the seat is gone.
 */
export const attachScript: Script = {
  name: 'sync.attach',
  lua: `
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[5])
redis.call('SADD', KEYS[5], ARGV[6])
for _, i in ipairs({1, 2, 3, 6, 7}) do redis.call('PEXPIRE', KEYS[i], ARGV[7]) end
redis.call('ZREM', KEYS[8], ARGV[8])
return 1`,
  local (ops, keys, [, pid, sid, value, member, instanceId, ttlMs, graceMember]) {
    const [participants, sockets, online, instanceSockets, instances] = keys
    if (ops.hGet(participants, pid) === null) return 0
    ops.hSet(sockets, { [sid]: value })
    ops.sAdd(online, sid)
    ops.sAdd(instanceSockets, member)
    ops.sAdd(instances, instanceId)
    for (const i of [0, 1, 2, 5, 6]) ops.pexpire(keys[i], Number(ttlMs))
    ops.zRem(keys[7], graceMember)
    return 1
  }
}

/**
 * KEYS: sockets, online, instance sockets, participants, the grace queue;
 * ARGV: p, socketId, connectionId, instanceMember, roomId, graceAt.
 * Removes one connection of a socket (not a later, recovered connection with the same id); when
 * it was the participant's last, its grace deadline is set in the same step, so a seat without
 * a socket always has one (whatever crashes next).
 * → {participantId, sockets of it left} | {} when that connection was not attached.
 */
export const detachScript: Script = {
  name: 'sync.detach',
  lua: SOCKETS_OF_LUA + `
redis.call('SREM', KEYS[3], ARGV[4])
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v then return {} end
local pid = string.match(v, '^([^|]*)|')
local suffix = '|' .. ARGV[3]
if string.sub(v, -#suffix) ~= suffix then return {} end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[2])
local remaining = sockets_of(KEYS[1], pid)
if remaining == 0 and redis.call('HEXISTS', KEYS[4], pid) == 1 then
  redis.call('ZADD', KEYS[5], ARGV[6], ARGV[5] .. '|' .. pid)
end
return {pid, remaining}`,
  local (ops, [sockets, online, instanceSockets, participants, queue], [, sid, conn, member, roomId, graceAt]) {
    ops.sRem(instanceSockets, member)
    const value = ops.hGet(sockets, sid)
    if (value === null || !value.endsWith(`|${conn}`)) return []
    const pid = value.slice(0, value.indexOf('|'))
    ops.hDel(sockets, sid)
    ops.sRem(online, sid)
    const remaining = socketsOf(ops.hGetAll(sockets), pid)
    if (remaining === 0 && ops.hGet(participants, pid) !== null) ops.zAdd(queue, Number(graceAt), `${roomId}|${pid}`)
    return [pid, remaining]
  }
}

/**
 * KEYS: participants, identities, sockets, the grace queue; ARGV: p, participantId, grace member.
 * Frees the seat unless a socket came back for it. → the stored JSON, 0 (still attached), or nil.
 */
export const releaseScript: Script = {
  name: 'sync.release',
  lua: SOCKETS_OF_LUA + `
local json = redis.call('HGET', KEYS[1], ARGV[2])
if not json then return false end
if sockets_of(KEYS[3], ARGV[2]) > 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
local ids = redis.call('HGETALL', KEYS[2])
for i = 1, #ids, 2 do
  if ids[i + 1] == ARGV[2] then redis.call('HDEL', KEYS[2], ids[i]) end
end
redis.call('ZREM', KEYS[4], ARGV[3])
return json`,
  local (ops, [participants, identities, sockets, queue], [, pid, member]) {
    const json = ops.hGet(participants, pid)
    if (json === null) return null
    if (socketsOf(ops.hGetAll(sockets), pid) > 0) return 0
    ops.hDel(participants, pid)
    for (const [identity, id] of Object.entries(ops.hGetAll(identities))) {
      if (id === pid) ops.hDel(identities, identity)
    }
    ops.zRem(queue, member)
    return json
  }
}

/** KEYS: instance sockets, sync:instances; ARGV: p, instanceId. → its members, taken by one caller. */
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

export type SeatClaim =
  | { kind: 'existing', participant: StoredParticipant }
  | { kind: 'new', participant: StoredParticipant }
  | { kind: 'full' }
  | { kind: 'free' }

export const graceMember = (roomId: string, participantId: string): string => `${roomId}|${participantId}`

export interface RoomStateOptions {
  store: Store
  ttlMs: number
  instanceId: string
  /** The sorted set of grace deadlines (a `createDeadlines` queue's key). */
  graceQueue: string
}

/** Typed access to one store's watch-party state. */
export function createRoomState ({ store, ttlMs, instanceId, graceQueue }: RoomStateOptions) {
  const attachKeys = (roomId: string) => [
    syncKeys.participants(roomId), syncKeys.sockets(roomId), syncKeys.online(roomId),
    syncKeys.instanceSockets(instanceId), syncKeys.instances, syncKeys.identities(roomId), syncKeys.playback(roomId),
    graceQueue
  ]

  return {
    /**
     * The seat found by `lookup`, else (capacity allowing, and when `reserve`) `candidate`'s new
     * one, with a grace deadline at `graceAt` until a socket attaches.
     */
    async claimSeat (roomId: string, lookup: string, candidate: StoredParticipant, options: { max: number, reserve: boolean, graceAt: number }): Promise<SeatClaim> {
      const reply = await store.run(claimSeatScript, [...roomKeys(roomId), graceQueue], [
        lookup, candidate.id, JSON.stringify(candidate), options.max, ttlMs, options.reserve ? '1' : '0',
        candidate.identity, graceMember(roomId, candidate.id), options.graceAt
      ]) as string[]
      const [kind, json] = reply
      if (kind === 'existing' || kind === 'new') return { kind, participant: JSON.parse(json) as StoredParticipant }
      return { kind: kind === 'full' ? 'full' : 'free' }
    },

    /** Attaches a connection to its seat and cancels the seat's grace; false when the seat is gone. */
    async attach (roomId: string, participantId: string, socketId: string, connectionId: string): Promise<boolean> {
      const reply = await store.run(attachScript, attachKeys(roomId), [
        participantId, socketId, `${participantId}|${instanceId}|${connectionId}`,
        `${roomId}|${socketId}|${connectionId}`, instanceId, ttlMs, graceMember(roomId, participantId)
      ])
      return reply === 1
    },

    /** Which participant a socket's connection is attached as, if any. */
    async attachedAs (roomId: string, socketId: string, connectionId: string): Promise<string | null> {
      const value = await store.hGet(syncKeys.sockets(roomId), socketId)
      if (value === null || !value.endsWith(`|${connectionId}`)) return null
      return value.slice(0, value.indexOf('|'))
    },

    /** Detaches a connection; the seat's grace ends at `graceAt` if that was its last socket. */
    async detach (roomId: string, socketId: string, connectionId: string, graceAt: number, instance = instanceId): Promise<{ participantId: string, remaining: number } | null> {
      const reply = await store.run(detachScript,
        [syncKeys.sockets(roomId), syncKeys.online(roomId), syncKeys.instanceSockets(instance), syncKeys.participants(roomId), graceQueue],
        [socketId, connectionId, `${roomId}|${socketId}|${connectionId}`, roomId, graceAt]) as ScriptReply[]
      if (reply.length === 0) return null
      return { participantId: String(reply[0]), remaining: Number(reply[1]) }
    },

    /** The seat, freed (and its grace dropped); null when it is gone already or a socket holds it again. */
    async release (roomId: string, participantId: string): Promise<StoredParticipant | null> {
      const reply = await store.run(releaseScript,
        [syncKeys.participants(roomId), syncKeys.identities(roomId), syncKeys.sockets(roomId), graceQueue],
        [participantId, graceMember(roomId, participantId)])
      return typeof reply === 'string' ? JSON.parse(reply) as StoredParticipant : null
    },

    async participants (roomId: string): Promise<StoredParticipant[]> {
      const all = await store.hGetAll(syncKeys.participants(roomId))
      return Object.values(all).map((json) => JSON.parse(json) as StoredParticipant)
        .sort((a, b) => a.joinedAt.localeCompare(b.joinedAt) || a.id.localeCompare(b.id))
    },

    async playback (roomId: string): Promise<PlaybackState | null> {
      const json = await store.get(syncKeys.playback(roomId))
      return json === null ? null : JSON.parse(json) as PlaybackState
    },

    async setPlayback (roomId: string, state: PlaybackState): Promise<void> {
      await store.set(syncKeys.playback(roomId), JSON.stringify(state), { ttlMs })
    },

    /** Activity: every key of the room lives another ttl. */
    async touch (roomId: string): Promise<void> {
      await Promise.all(roomKeys(roomId).map((key) => store.pexpire(key, ttlMs)))
    },

    async remove (roomId: string): Promise<void> {
      await store.del(...roomKeys(roomId))
    },

    /** Instances that have (had) sockets in rooms. */
    async instances (): Promise<string[]> {
      return await store.sMembers(syncKeys.instances)
    },

    /** Takes the socket entries an instance left, once: `{roomId, socketId, connectionId}`. */
    async takeInstance (id: string): Promise<Array<{ roomId: string, socketId: string, connectionId: string }>> {
      const members = await store.run(takeInstanceScript, [syncKeys.instanceSockets(id), syncKeys.instances], [id]) as string[]
      return members.map((m) => {
        const [roomId, socketId, connectionId] = m.split('|')
        return { roomId, socketId, connectionId }
      })
    }
  }
}

export type RoomState = ReturnType<typeof createRoomState>
