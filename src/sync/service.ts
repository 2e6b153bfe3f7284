import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Db } from '../db/index.js'
import type { Store } from '../store/types.js'
import type { Identity } from '../auth/identity.js'
import { hashPassword, verifyPassword } from '../auth/passwords.js'
import { AppError } from '../errors.js'
import { createDeadlines, deadlineKey } from '../services/deadlines.js'
import type { Limiter } from '../services/limiter.js'
import { defaultErrorSink, repeat, type ErrorSink } from '../services/timer.js'
import { deadlineQueues } from '../store/keys.js'
import type { SyncServerToClientEvents } from '../client.js'
import type { Emission, EmissionPort } from '../socket/emission.js'
import { noRoomEvents, type RoomEvent, type RoomEventSink } from '../services/room-events.js'
import type {
  CreateSyncRoomBody, Participant, ParticipantLeftPayload, PlaybackState, PlaybackUpdatePayload,
  RoomStatePayload, SyncRoom
} from '../contract/sync.js'
import { generateRoomCode, normalizeRoomCode } from './codes.js'
import { applyPlaybackUpdate, initialPlayback } from './playback.js'
import { createRoomRepository, toWireRoom, type ClosedRoom, type RoomRow } from './repository.js'
import { createRoomState, toWireParticipant, type StoredParticipant } from './state.js'

const GRACE_QUEUE = deadlineQueues.syncGrace

/** The Socket.IO room of a watch-party room's sockets. */
export const roomChannel = (roomId: string) => `sync:${roomId}`

export interface SyncRoomsOptions {
  db: Db
  store: Store
  instanceId: string
  /** SYNC_ROOM_TTL_MS: an idle room (and its store keys) lives this long. */
  ttlMs: number
  /** SYNC_RECONNECT_GRACE_MS: how long a dropped participant keeps its seat. */
  graceMs: number
  /** Wrong-password attempts, keyed `{ipHash}:{roomId}`. */
  passwordLimiter: Pick<Limiter, 'consume' | 'reset'>
  /** Where `room:participant:left` and `room:closed` go when no socket event caused them (the namespace's outbox). */
  outbox: SyncOutbox
  /** INSTANCE_TTL_MS: a crash is noticed this late, so it counts against the grace. */
  instanceTtlMs: number
  /** Expired rooms are looked for this often. */
  sweepIntervalMs?: number
  /** How often due grace deadlines are popped. */
  graceSweepMs?: number
  generateCode?: () => string
  /** Seats taken and freed, playback changes (the seat scripts say which seat was first or last). */
  roomEvents?: RoomEventSink
  now?: () => number
  onError?: ErrorSink
}

/** What a socket holds once joined (kept in `socket.data`, so recovery restores it). */
export interface Membership {
  roomId: string
  roomCode: string
  participantId: string
  /** Guests: sent back in `room:join` to resume this participant from a new socket. */
  resumeToken?: string
}

/** One socket connection: its id, plus an id that changes with every (recovered) connection. */
export interface Connection { socketId: string, connectionId: string }

export interface JoinInput extends Connection {
  roomCode: string
  password?: string
  guestName?: string
  resumeToken?: string
  identity: Identity | null
  ipHash: string
  /** The socket's verified membership; a socket joins one room at a time. */
  current: Membership | null
}

export interface JoinResult {
  membership: Membership
  state: RoomStatePayload
  /** The new participant, for `room:participant:joined`; null when an existing one came back. */
  joined: Participant | null
}

/** Typed emissions to `/sync`, and the one room operation a closed room needs. */
export interface SyncOutbox extends EmissionPort<SyncServerToClientEvents> {
  /** As `send`, resolved once the adapter has them out (before a leave that must come after). */
  deliver (emissions: Array<Emission<SyncServerToClientEvents>>): Promise<void>
  /** Every socket (on any instance) leaves a Socket.IO room. */
  empty (room: string): void
}

/** A seat taken (`seats` 1: the first) or freed (`seats` 0: the last), as room events. */
type Seat = Pick<StoredParticipant, 'id' | 'userId' | 'displayName' | 'isGuest'>
function seatEvents (change: 'added' | 'removed', roomId: string, participant: Seat, seats: number): RoomEvent[] {
  const room = { kind: 'sync' as const, id: roomId }
  const data = { participantId: participant.id, displayName: participant.displayName, isGuest: participant.isGuest, members: seats }
  const who = participant.userId !== null ? { userId: participant.userId } : {}
  const member: RoomEvent = { type: change === 'added' ? 'member.added' : 'member.removed', room, ...who, data }
  if (change === 'added') return seats === 1 ? [{ type: 'room.occupied', room, ...who, data }, member] : [member]
  return seats === 0 ? [member, { type: 'room.vacated', room, ...who, data }] : [member]
}

/** A room deleted or expired with seats still held: each seat freed, then room.vacated (`data.reason`). */
function closedEvents (room: ClosedRoom, reason: 'deleted' | 'expired'): RoomEvent[] {
  const events = room.participants.flatMap((seat, n) => seatEvents('removed', room.id, seat, room.participants.length - n - 1))
  const vacated = events.at(-1)
  if (vacated) vacated.data = { ...vacated.data, reason }
  return events
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, Math.floor(value)))
const guestIdentity = (token: string) => `guest:${createHash('sha256').update(token).digest('hex')}`

function notFound (): AppError {
  return new AppError('ROOM_NOT_FOUND', 'Room not found or expired', 404)
}

/**
 * Watch-party rooms (CONTRACT §5): rooms in SQL, seats/sockets/playback in the store, a
 * reconnect grace on the shared deadline queue. Knows nothing of Fastify or Socket.IO: the
 * namespace turns its results into events; what happens outside a socket event (a grace ran
 * out, a room expired or was deleted) goes to the outbox as typed emissions.
 */
export function createSyncRooms (options: SyncRoomsOptions) {
  const { db, store, instanceId, ttlMs, graceMs, passwordLimiter, outbox, instanceTtlMs, now = Date.now, roomEvents = noRoomEvents } = options
  const onError = options.onError ?? defaultErrorSink('sync')
  const repo = createRoomRepository({ db, ttlMs, now, generateCode: options.generateCode ?? generateRoomCode })
  const state = createRoomState({ store, ttlMs, instanceId, graceQueue: deadlineKey(GRACE_QUEUE) })
  const deadlines = createDeadlines({ store, name: GRACE_QUEUE, sweepIntervalMs: options.graceSweepMs ?? clamp(graceMs / 4, 10, 1000), now, onError })
  const maintenance = repeat(options.sweepIntervalMs ?? clamp(Math.min(ttlMs / 2, instanceTtlMs / 3), 10, 60_000), async () => {
    await sweepExpired()
  }, onError)

  async function roomByCode (input: string): Promise<RoomRow> {
    const code = normalizeRoomCode(input)
    const room = code === null ? null : await repo.byCode(code)
    if (room === null) throw notFound()
    return room
  }

  async function touch (roomId: string, changes?: { mediaUrl?: string | null }): Promise<RoomRow | null> {
    const [row] = await Promise.all([repo.touch(roomId, changes), state.touch(roomId)])
    return row
  }

  async function checkPassword (room: RoomRow, password: string | undefined, ipHash: string): Promise<void> {
    if (room.passwordHash === null) return
    if (password === undefined || password === '') throw new AppError('INVALID_PASSWORD', 'This room needs a password')
    const key = `${ipHash}:${room.id}`
    const { ok, retryAfterMs } = await passwordLimiter.consume(key)
    if (!ok) throw new AppError('RATE_LIMITED', `Too many password attempts; retry in ${Math.ceil(retryAfterMs / 1000)} s`)
    if (!await verifyPassword(password, room.passwordHash)) throw new AppError('INVALID_PASSWORD', 'Wrong room password')
    // Only failures in a row count: a member reconnecting many times is not throttled.
    await passwordLimiter.reset(key)
  }

  async function stateOf (room: RoomRow, membership: Membership): Promise<RoomStatePayload> {
    const [participants, playback] = await Promise.all([state.participants(room.id), state.playback(room.id)])
    return {
      room: toWireRoom(room),
      participants: participants.map(toWireParticipant),
      playback,
      participantId: membership.participantId,
      ...(membership.resumeToken === undefined ? {} : { resumeToken: membership.resumeToken })
    }
  }

  /** Frees a seat nobody holds: store, then SQL, then the `left` notification. */
  async function releaseSeat (roomId: string, participantId: string, exceptSocketId?: string): Promise<boolean> {
    const released = await state.release(roomId, participantId)
    if (released === null) return false
    roomEvents.report(seatEvents('removed', roomId, released.participant, released.seats))
    await repo.deleteParticipant(participantId)
    const payload: ParticipantLeftPayload = { participantId, userId: released.participant.userId, oderId: participantId }
    tell(() => { outbox.send({ to: { room: roomChannel(roomId), ...(exceptSocketId === undefined ? {} : { except: [exceptSocketId] }) }, event: 'room:participant:left', payload }) })
    return true
  }

  /** A socket's connection went away without leaving: its seat (if that was its last socket) waits until `graceAt`. */
  async function dropConnection (roomId: string, connection: Connection, instance: string, graceAt: number): Promise<void> {
    await state.detach(roomId, connection.socketId, connection.connectionId, graceAt, instance)
  }

  /** Deletes the room `id` (or the expired ones), writing their departures in the same transaction. */
  async function closeRooms (reason: 'deleted' | 'expired', id?: string): Promise<number> {
    const closed = await repo.close((rooms, tx) => roomEvents.write(rooms.flatMap(r => closedEvents(r, reason)), tx), id)
    for (const room of closed) {
      await state.remove(room.id)
      await roomClosed(room.id, room.code, reason)
    }
    return closed.length
  }

  const sweepExpired = () => closeRooms('expired')

  /** The room's sockets hear it closed, then (once the adapter has it out) leave its Socket.IO room. */
  async function roomClosed (roomId: string, roomCode: string, reason: 'deleted' | 'expired'): Promise<void> {
    const to = { room: roomChannel(roomId) }
    try {
      await outbox.deliver([
        { to, event: 'room:closed', payload: { roomCode, reason } },
        { to, event: 'room:error', payload: { code: 'ROOM_NOT_FOUND', message: reason === 'deleted' ? 'The room was deleted' : 'The room expired' } }
      ])
      outbox.empty(to.room)
    } catch (err) {
      onError(err)
    }
  }

  /** What others are told never fails the work that caused it. */
  function tell (send: () => void): void {
    try {
      send()
    } catch (err) {
      onError(err)
    }
  }

  /**
   * Sockets of a crashed instance (told by the instance lifecycle, on one survivor) lose their
   * connection: the grace starts from when it stopped.
   */
  async function instanceDied (id: string): Promise<void> {
    const at = now() + Math.max(0, graceMs - instanceTtlMs)
    for (const entry of await state.takeInstance(id)) await dropConnection(entry.roomId, entry, id, at)
  }

  // Seats whose grace ran out, freed on whichever instance popped them; close() waits for them.
  const releasing = new Set<Promise<unknown>>()
  deadlines.onDue((member) => {
    const [roomId, participantId] = member.split('|')
    const work = releaseSeat(roomId, participantId).catch(onError)
    releasing.add(work)
    work.then(() => releasing.delete(work), () => releasing.delete(work))
  })

  return {
    async createRoom (ownerId: string, body: CreateSyncRoomBody): Promise<SyncRoom> {
      const name = body.name.trim()
      if (name === '') throw new AppError('INVALID_REQUEST', 'body/name must not be blank')
      const row = await repo.insert({
        name,
        passwordHash: body.password === undefined ? null : await hashPassword(body.password),
        maxParticipants: body.maxParticipants ?? 10,
        mediaUrl: body.mediaUrl ?? null,
        ownerId
      })
      return toWireRoom(row)
    },

    async getRoom (code: string): Promise<SyncRoom> {
      return toWireRoom(await roomByCode(code))
    },

    /** Owner only; participants are told (`closed`) and the room's state is gone. */
    async deleteRoom (code: string, userId: string): Promise<void> {
      const room = await roomByCode(code)
      if (room.ownerId !== userId) throw new AppError('FORBIDDEN', 'Only the room owner can delete it', 403)
      if (await closeRooms('deleted', room.id) === 0) throw notFound()
    },

    /**
     * Seed 002's connection flow: who (guests need a name) → room and password → capacity →
     * one room per socket → participant row → store state; the caller then sends `room:state`
     * and `room:participant:joined`. A registered user, or a guest with its resume token, that
     * already has a seat gets that seat back (no new participant, no capacity check).
     */
    async join (input: JoinInput): Promise<JoinResult> {
      const { identity } = input
      const guestName = input.guestName?.trim() ?? ''
      if (identity === null && guestName === '') throw new AppError('UNAUTHORIZED', 'Guests must give a guestName (or connect with a token)')
      const room = await roomByCode(input.roomCode)
      await checkPassword(room, input.password, input.ipHash)

      for (let attempt = 0; ; attempt++) {
        const token = identity === null ? randomBytes(24).toString('base64url') : undefined
        const lookup = identity !== null ? `user:${identity.id}` : guestIdentity(input.resumeToken ?? token!)
        const candidate: StoredParticipant = {
          id: randomUUID(),
          userId: identity?.id ?? null,
          displayName: identity?.displayName ?? guestName,
          isGuest: identity === null,
          isHost: identity !== null && identity.id === room.ownerId,
          joinedAt: new Date(now()).toISOString(),
          identity: identity !== null ? lookup : guestIdentity(token!)
        }
        const claim = await state.claimSeat(room.id, lookup, candidate, { max: room.maxParticipants, reserve: input.current === null, graceAt: now() + graceMs })
        if (claim.kind === 'full') throw new AppError('ROOM_FULL', 'The room is full')
        if (input.current !== null) throw new AppError('ALREADY_IN_ROOM', 'This connection is already in a room; leave it first')
        if (claim.kind === 'free') throw new Error('unreachable: seat looked up without reserving')

        const participant = claim.participant
        if (claim.kind === 'new') {
          try {
            await repo.insertParticipant(room.id, toWireParticipant(participant))
          } catch (err) {
            await state.release(room.id, participant.id)
            throw err
          }
          roomEvents.report(seatEvents('added', room.id, participant, claim.seats))
        }
        if (!await state.attach(room.id, participant.id, input.socketId, input.connectionId)) {
          // The seat went between claim and attach: its grace ran out while the participant was
          // being stored (a slow database; try again once) or the room was deleted.
          if (claim.kind === 'new') await repo.deleteParticipant(participant.id)
          if (attempt === 0) continue
          throw notFound()
        }
        const touched = await touch(room.id) ?? room
        const resumeToken = identity !== null
          ? undefined
          : claim.kind === 'existing' ? input.resumeToken : token
        const membership: Membership = { roomId: room.id, roomCode: room.code, participantId: participant.id, ...(resumeToken ? { resumeToken } : {}) }
        return {
          membership,
          state: await stateOf(touched, membership),
          joined: claim.kind === 'new' ? toWireParticipant(participant) : null
        }
      }
    },

    /** Whether this connection is still attached as the membership's participant. */
    async isAttached (membership: Membership, connection: Connection): Promise<boolean> {
      const participantId = await state.attachedAs(membership.roomId, connection.socketId, connection.connectionId)
      return participantId === membership.participantId
    },

    /**
     * Explicit leave (or a deliberate client disconnect): at once, unless another socket of the
     * same participant is still in the room.
     */
    async leave (membership: Membership, connection: Connection): Promise<void> {
      // Detaching sets an immediate deadline, so that the seat is freed even if this instance dies now.
      const detached = await state.detach(membership.roomId, connection.socketId, connection.connectionId, now())
      if (detached !== null && detached.remaining > 0) return
      if (await releaseSeat(membership.roomId, membership.participantId, connection.socketId)) {
        await touch(membership.roomId)
      }
    },

    /** Kick or ban (issue 21): the participant's sockets are detached and its seat freed now; answers those sockets. */
    async removeParticipant (roomId: string, participantId: string): Promise<string[]> {
      const sockets = await state.socketsOf(roomId, participantId)
      for (const s of sockets) await state.detach(roomId, s.socketId, s.connectionId, now())
      if (await releaseSeat(roomId, participantId)) await touch(roomId)
      return sockets.map(s => s.socketId)
    },

    /** Transport lost: the seat is kept for the grace. */
    async drop (membership: Membership, connection: Connection): Promise<void> {
      await dropConnection(membership.roomId, connection, instanceId, now() + graceMs)
    },

    /** A recovered socket takes its seat back; null when the grace or the room ran out. */
    async resume (membership: Membership, connection: Connection): Promise<RoomStatePayload | null> {
      if (!await state.attach(membership.roomId, membership.participantId, connection.socketId, connection.connectionId)) return null
      const room = await touch(membership.roomId)
      if (room === null) return null
      return await stateOf(room, membership)
    },

    async updatePlayback (membership: Membership, update: PlaybackUpdatePayload): Promise<PlaybackState> {
      const { roomId } = membership
      let current = await state.playback(roomId)
      if (current === null) {
        const room = await repo.byId(roomId)
        if (room === null) throw notFound()
        current = initialPlayback(room.mediaUrl, now())
      }
      const next = applyPlaybackUpdate(current, update, membership.participantId, now())
      await state.setPlayback(roomId, next)
      roomEvents.report([{ type: 'sync.playback', room: { kind: 'sync', id: roomId }, data: { ...next } }])
      await touch(roomId, update.action === 'media' ? { mediaUrl: next.mediaUrl } : {})
      return next
    },

    sweepExpired,
    instanceDied,
    repository: repo,
    state,

    start (): void {
      deadlines.start()
      maintenance.start()
    },

    /** Stops the sweeps; this instance's remaining sockets start their grace for the others to end. */
    async close (): Promise<void> {
      maintenance.stop()
      await deadlines.close()
      await Promise.allSettled([...releasing])
      const at = now() + graceMs
      for (const entry of await state.takeInstance(instanceId)) await dropConnection(entry.roomId, entry, instanceId, at)
    }
  }
}

export type SyncRooms = ReturnType<typeof createSyncRooms>
