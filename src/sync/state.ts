import type { Participant, PlaybackState } from '../contract/sync.js'
import type { ScriptReply, Store } from '../store/types.js'
import { roomKeys, syncKeys } from '../store/keys.js'
import { attachScript } from './scripts/attach.js'
import { claimSeatScript } from './scripts/claim-seat.js'
import { detachScript } from './scripts/detach.js'
import { releaseScript } from './scripts/release.js'
import { takeInstanceScript } from './scripts/take-instance.js'

/** The room's store keys are named in src/store/keys.ts (CONTRACT §5 names the first three). */
export { roomKeys, syncKeys }

/** A seat as stored: the wire participant plus the identity key that finds it again. */
export interface StoredParticipant extends Participant {
  identity: string
}

export const toWireParticipant = ({ identity: _identity, ...p }: StoredParticipant): Participant => p

export type SeatClaim =
  | { kind: 'existing', participant: StoredParticipant }
  | { kind: 'new', participant: StoredParticipant, seats: number }
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

/** A connection of this instance attached to its seat: what a write-back needs. */
interface LocalConnection { connectionId: string, participant: StoredParticipant }
/** This instance's part of a room, written back when the store lost it. */
interface LocalRoom { sockets: Map<string, LocalConnection>, playback: PlaybackState | null }

/** Typed access to one store's watch-party state. */
export function createRoomState ({ store, ttlMs, instanceId, graceQueue }: RoomStateOptions) {
  // Rooms with sockets attached on this instance (dropped with their last one), for restore().
  const local = new Map<string, LocalRoom>()

  async function remember (roomId: string, participantId: string, socketId: string, connectionId: string): Promise<void> {
    // One read on attach, not on every event; a failed read only leaves this socket out of a write-back.
    const json = await store.hGet(syncKeys.participants(roomId), participantId).catch(() => null)
    if (json === null) return
    let room = local.get(roomId)
    if (room === undefined) local.set(roomId, (room = { sockets: new Map(), playback: null }))
    room.sockets.set(socketId, { connectionId, participant: JSON.parse(json) as StoredParticipant })
  }

  function forget (roomId: string, socketId: string, connectionId: string): void {
    const room = local.get(roomId)
    if (room?.sockets.get(socketId)?.connectionId !== connectionId) return
    room.sockets.delete(socketId)
    if (room.sockets.size === 0) local.delete(roomId)
  }

  function sawPlayback (roomId: string, playback: PlaybackState | null): void {
    const room = local.get(roomId)
    if (room !== undefined && playback !== null && (room.playback === null || room.playback.updatedAt <= playback.updatedAt)) room.playback = playback
  }

  const attachKeys = (roomId: string) => [
    syncKeys.participants(roomId), syncKeys.sockets(roomId), syncKeys.online(roomId),
    syncKeys.instanceSockets(instanceId), syncKeys.instances, syncKeys.identities(roomId), syncKeys.playback(roomId),
    graceQueue
  ]

  const roomState = {
    /**
     * The seat found by `lookup`, else (capacity allowing, and when `reserve`) `candidate`'s new
     * one, with a grace deadline at `graceAt` until a socket attaches.
     */
    async claimSeat (roomId: string, lookup: string, candidate: StoredParticipant, options: { max: number, reserve: boolean, graceAt: number }): Promise<SeatClaim> {
      const reply = await store.run(claimSeatScript, [...roomKeys(roomId), graceQueue], [
        lookup, candidate.id, JSON.stringify(candidate), options.max, ttlMs, options.reserve ? '1' : '0',
        candidate.identity, graceMember(roomId, candidate.id), options.graceAt
      ]) as [string, string, number]
      const [kind, json, seats] = reply
      if (kind === 'new') return { kind, participant: JSON.parse(json) as StoredParticipant, seats: Number(seats) }
      if (kind === 'existing') return { kind, participant: JSON.parse(json) as StoredParticipant }
      return { kind: kind === 'full' ? 'full' : 'free' }
    },

    /** Attaches a connection to its seat and cancels the seat's grace; false when the seat is gone. */
    async attach (roomId: string, participantId: string, socketId: string, connectionId: string): Promise<boolean> {
      const reply = await store.run(attachScript, attachKeys(roomId), [
        participantId, socketId, `${participantId}|${instanceId}|${connectionId}`,
        `${roomId}|${socketId}|${connectionId}`, instanceId, ttlMs, graceMember(roomId, participantId)
      ])
      if (reply === 1) await remember(roomId, participantId, socketId, connectionId)
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
      if (instance === instanceId) forget(roomId, socketId, connectionId)
      const reply = await store.run(detachScript,
        [syncKeys.sockets(roomId), syncKeys.online(roomId), syncKeys.instanceSockets(instance), syncKeys.participants(roomId), graceQueue],
        [socketId, connectionId, `${roomId}|${socketId}|${connectionId}`, roomId, graceAt]) as ScriptReply[]
      if (reply.length === 0) return null
      return { participantId: String(reply[0]), remaining: Number(reply[1]) }
    },

    /** The seat, freed (and its grace dropped), and the seats left; null when it is gone already or a socket holds it again. */
    async release (roomId: string, participantId: string): Promise<{ participant: StoredParticipant, seats: number } | null> {
      const reply = await store.run(releaseScript,
        [syncKeys.participants(roomId), syncKeys.identities(roomId), syncKeys.sockets(roomId), graceQueue],
        [participantId, graceMember(roomId, participantId)])
      if (!Array.isArray(reply)) return null
      return { participant: JSON.parse(String(reply[0])) as StoredParticipant, seats: Number(reply[1]) }
    },

    /** The sockets attached as one participant, on any instance (moderation, issue 21). */
    async socketsOf (roomId: string, participantId: string): Promise<Array<{ socketId: string, connectionId: string }>> {
      const all = await store.hGetAll(syncKeys.sockets(roomId))
      return Object.entries(all).flatMap(([socketId, value]) => {
        const [pid, , connectionId] = value.split('|')
        return pid === participantId && connectionId !== undefined ? [{ socketId, connectionId }] : []
      })
    },

    async participants (roomId: string): Promise<StoredParticipant[]> {
      const all = await store.hGetAll(syncKeys.participants(roomId))
      return Object.values(all).map((json) => JSON.parse(json) as StoredParticipant)
        .sort((a, b) => a.joinedAt.localeCompare(b.joinedAt) || a.id.localeCompare(b.id))
    },

    async playback (roomId: string): Promise<PlaybackState | null> {
      const json = await store.get(syncKeys.playback(roomId))
      const playback = json === null ? null : JSON.parse(json) as PlaybackState
      sawPlayback(roomId, playback)
      return playback
    },

    async setPlayback (roomId: string, state: PlaybackState): Promise<void> {
      await store.set(syncKeys.playback(roomId), JSON.stringify(state), { ttlMs })
      sawPlayback(roomId, state)
    },

    /** Activity: every key of the room lives another ttl. */
    async touch (roomId: string): Promise<void> {
      await Promise.all(roomKeys(roomId).map((key) => store.pexpire(key, ttlMs)))
    },

    async remove (roomId: string): Promise<void> {
      local.delete(roomId)
      await store.del(...roomKeys(roomId))
    },

    /**
     * After the store lost its data: this instance's seats, attachments and the latest playback
     * it saw, written back (idempotent; a playback another instance wrote back later wins).
     */
    async restore (): Promise<void> {
      for (const [roomId, room] of [...local]) {
        for (const [socketId, { connectionId, participant }] of [...room.sockets]) {
          await roomState.claimSeat(roomId, participant.identity, participant, { max: Number.MAX_SAFE_INTEGER, reserve: true, graceAt: Date.now() + ttlMs })
          await roomState.attach(roomId, participant.id, socketId, connectionId)
        }
        const { playback } = room
        if (playback === null || await store.set(syncKeys.playback(roomId), JSON.stringify(playback), { ttlMs, onlyIfAbsent: true })) continue
        const stored = await roomState.playback(roomId)
        if (stored !== null && stored.updatedAt < playback.updatedAt) await roomState.setPlayback(roomId, playback)
      }
    },

    /** Instances that have (had) sockets in rooms. */
    async instances (): Promise<string[]> {
      return await store.sMembers(syncKeys.instances)
    },

    /** Takes the socket entries an instance left, once: `{roomId, socketId, connectionId}`. */
    async takeInstance (id: string): Promise<Array<{ roomId: string, socketId: string, connectionId: string }>> {
      if (id === instanceId) local.clear()
      const members = await store.run(takeInstanceScript, [syncKeys.instanceSockets(id), syncKeys.instances], [id]) as string[]
      return members.map((m) => {
        const [roomId, socketId, connectionId] = m.split('|')
        return { roomId, socketId, connectionId }
      })
    }
  }
  return roomState
}

export type RoomState = ReturnType<typeof createRoomState>
