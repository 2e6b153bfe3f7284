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

    /** The seat, freed (and its grace dropped), and the seats left; null when it is gone already or a socket holds it again. */
    async release (roomId: string, participantId: string): Promise<{ participant: StoredParticipant, seats: number } | null> {
      const reply = await store.run(releaseScript,
        [syncKeys.participants(roomId), syncKeys.identities(roomId), syncKeys.sockets(roomId), graceQueue],
        [participantId, graceMember(roomId, participantId)])
      if (!Array.isArray(reply)) return null
      return { participant: JSON.parse(String(reply[0])) as StoredParticipant, seats: Number(reply[1]) }
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
