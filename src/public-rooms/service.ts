import { AppError } from '../errors.js'
import { decodeRoomCursor, encodeRoomCursor } from '../contract/cursor.js'
import type { Presence, ScopeLeft } from '../presence/service.js'
import type { PublicRoomEmission } from '../socket/emission.js'
import {
  PublicRoomErrorCode as Code,
  type AnonymousUserView as AnonymousUser, type PublicRoomView as PublicRoom, type UserJoinedEvent, type UserLeftEvent
} from '../contract/public-rooms.js'
import type { PublicRoomsRepository, RoomRow, SeatTransaction } from './repository.js'

/** Socket.IO room (inside a room's namespace) of the sockets that joined: broadcasts go there. */
export const PARTICIPANTS = 'participants'

/** Where the service's emissions go: each room is a namespace of its own. */
export interface PublicRoomPort {
  send (roomId: string, ...emissions: PublicRoomEmission[]): void
  /** The sockets (on any instance) stop hearing the room's broadcasts; they stay connected. */
  leaveParticipants (roomId: string, socketIds: string[]): void
}

export interface PublicRoomsOptions {
  repository: PublicRoomsRepository
  presence: Pick<Presence, 'connect' | 'join' | 'leave' | 'disconnect' | 'count' | 'scopesOf' | 'socketsOf'>
  port: PublicRoomPort
  log: { warn: (obj: object, msg: string) => void }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Room ids as the API hands them out (lower case): anything else names no room. */
export const isRoomId = (value: string): boolean => UUID.test(value)

/** The presence scope of a public room. */
export const roomScope = (roomId: string): string => `public:${roomId}`

export const roomIdOfScope = (scope: string): string | null =>
  scope.startsWith('public:') ? scope.slice('public:'.length) : null

const roomNotFound = () => new AppError('ROOM_NOT_FOUND', 'Room not found', 404)
const invalidUser = () => new AppError('INVALID_USER', 'User not found or does not match this IP address')

type Presences = PublicRoomsOptions['presence']
type VerifyUser = (userId: string, ipHash: string) => Promise<AnonymousUser>

/** Seats: taken and given back under a lock on the room row, so no room is ever overfilled. */
function createSeats (repository: PublicRoomsRepository, presence: Presences) {
  async function takeSeat (seats: SeatTransaction, roomId: string, userId: string): Promise<{ joinedAt: Date, created: boolean }> {
    const room = await seats.lockRoom(roomId)
    if (!room) throw roomNotFound()
    const existing = await seats.seatOf(roomId, userId)
    if (existing) return { joinedAt: existing.joinedAt, created: false }
    if (await seats.seatCount(roomId) >= room.capacity) throw new AppError('ROOM_FULL', `Room is full (capacity ${room.capacity})`, 409)
    const { joinedAt } = await seats.insertSeat(roomId, userId)
    return { joinedAt, created: true }
  }

  /** After a socket left: gives the seat back unless the user is (again) present in the room. */
  async function releaseSeatIfAbsent (roomId: string, userId: string): Promise<boolean> {
    return await repository.inTransaction(async (seats) => {
      if (!await seats.lockRoom(roomId)) return false
      if ((await presence.scopesOf(userId)).includes(roomScope(roomId))) return false
      return await seats.deleteSeat(roomId, userId)
    })
  }

  /**
   * Socket join: a seat (as the REST join) and the socket's presence in the room, under one
   * lock so that a seat given back by the user's last socket never races a new socket's join.
   */
  async function enter (roomId: string, userId: string, socketId: string): Promise<{ first: boolean, count: number }> {
    return await repository.inTransaction(async (seats) => {
      await takeSeat(seats, roomId, userId)
      await presence.connect(socketId, userId)
      return await presence.join(socketId, roomScope(roomId))
    })
  }

  return { takeSeat, releaseSeatIfAbsent, enter }
}

/** Who is in a room through sockets: joins, leaves and departures, and what the room hears of them. */
function createParticipants (options: PublicRoomsOptions, seats: ReturnType<typeof createSeats>, verifyUser: VerifyUser) {
  const { presence, port, log } = options
  const { releaseSeatIfAbsent, enter } = seats

  /**
   * A user's last socket left a room: the seat is given back, then the rest hear `user-left`
   * (also when giving the seat back failed: the user is gone either way).
   */
  async function userGone (roomId: string, left: UserLeftEvent): Promise<void> {
    try {
      await releaseSeatIfAbsent(roomId, left.userId)
    } finally {
      port.send(roomId, { to: { room: PARTICIPANTS }, event: 'user-left', payload: left })
    }
  }

  /** Users removed from scopes by a disconnect or a sweep; one failure does not stop the rest. */
  async function usersLeft (left: ScopeLeft[]): Promise<void> {
    for (const entry of left) {
      const roomId = roomIdOfScope(entry.scope)
      if (roomId === null || !entry.last) continue
      await userGone(roomId, { userId: entry.userId, currentOccupancy: entry.count }).catch((err: unknown) => {
        log.warn({ err, roomId, userId: entry.userId }, 'public room seat release failed')
      })
    }
  }

  return {
    /** The user a socket joins as: verified (INVALID_USER), and the one it joined as before, if any. */
    async participantOf (userId: string, ipHash: string, joinedAs: string | null): Promise<AnonymousUser> {
      const user = await verifyUser(userId, ipHash)
      if (joinedAs !== null && joinedAs !== user.userId) {
        throw new AppError(Code.INVALID_USER, 'This connection has already joined as another user')
      }
      return user
    },

    /**
     * Socket `join-room` of a verified user: takes a seat and presence; the caller makes the socket
     * a participant, then sends the emissions. Another tab of a present user: only that tab hears
     * it, the room already knows the user.
     */
    async joinAsParticipant (roomId: string, user: AnonymousUser, socketId: string): Promise<{ joined: UserJoinedEvent, emissions: PublicRoomEmission[] }> {
      const { first, count } = await enter(roomId, user.userId, socketId)
      const joined: UserJoinedEvent = {
        userId: user.userId, userName: user.userName, joinedAt: new Date().toISOString(), currentOccupancy: count
      }
      return { joined, emissions: [{ to: first ? { room: PARTICIPANTS } : { socket: socketId }, event: 'user-joined', payload: joined }] }
    },

    /** Socket `leave-room` of the user the socket joined as (INVALID_USER for another). */
    async leaveAsParticipant (roomId: string, socketId: string, userId: string, joinedAs: string): Promise<void> {
      if (userId !== joinedAs) throw new AppError(Code.INVALID_USER, 'This connection did not join as that user')
      const left = await presence.leave(socketId, roomScope(roomId))
      port.leaveParticipants(roomId, [socketId])
      if (left.left && left.last) await userGone(roomId, { userId, currentOccupancy: left.count })
      // A retry after a failed seat release finds the user gone and finishes the job.
      else if (!left.left) await releaseSeatIfAbsent(roomId, userId)
    },

    /** A socket that had joined disconnected: disconnect = leave. */
    async participantGone (socketId: string): Promise<void> {
      await usersLeft((await presence.disconnect(socketId)).left)
    },

    /**
     * After a REST leave: the user's sockets in the room leave presence and the participants
     * room (they stay connected and may join again); the rest hear `user-left`.
     */
    async evict (roomId: string, userId: string): Promise<boolean> {
      const scope = roomScope(roomId)
      let wasPresent = false
      for (const socketId of await presence.socketsOf(userId)) {
        const left = await presence.leave(socketId, scope)
        if (!left.left) continue
        wasPresent = true
        port.leaveParticipants(roomId, [socketId])
        if (left.last) await userGone(roomId, { userId, currentOccupancy: left.count })
      }
      return wasPresent
    },

    /** Users removed without a socket event (a dead instance swept, or shutdown): ours only. */
    async usersLeftWithoutEvent (left: ScopeLeft[]): Promise<void> {
      await usersLeft(left.filter((entry) => roomIdOfScope(entry.scope) !== null))
    }
  }
}

/**
 * Seed 000's rooms and anonymous users. A membership row is a seat: the REST join takes one,
 * a socket `join-room` takes one when the user has none, and it is given back when the user
 * leaves (REST leave, or their last socket in the room leaving). Seats are counted against
 * `capacity` under a lock on the room row, so concurrent joins never overfill a room on any
 * number of instances. `currentOccupancy` is who is present now (presence, all instances).
 */
export function createPublicRooms (options: PublicRoomsOptions) {
  const { repository, presence } = options
  const seats = createSeats(repository, presence)
  const { takeSeat } = seats

  async function toRoom (row: RoomRow): Promise<PublicRoom> {
    return {
      id: row.id,
      name: row.name,
      capacity: row.capacity,
      createdBy: row.createdBy,
      createdAt: row.createdAt.toISOString(),
      currentOccupancy: await presence.count(roomScope(row.id))
    }
  }

  async function findRoom (roomId: string): Promise<RoomRow | null> {
    return isRoomId(roomId) ? await repository.roomById(roomId) : null
  }

  /** The user, if it exists and was created from this IP; INVALID_USER otherwise. */
  async function verifyUser (userId: string, ipHash: string): Promise<AnonymousUser> {
    if (!UUID.test(userId)) throw invalidUser()
    const row = await repository.userById(userId)
    if (!row || row.ipHash !== ipHash) throw invalidUser()
    return { userId: row.id, userName: row.userName }
  }

  return {
    async createRoom (input: { name: string, capacity?: number, createdBy: string }): Promise<PublicRoom> {
      const name = input.name.trim()
      if (name === '') throw new AppError('INVALID_REQUEST', 'name must not be blank')
      const row = await repository.insertRoom({ name, createdBy: input.createdBy, ...(input.capacity !== undefined ? { capacity: input.capacity } : {}) })
      return await toRoom(row)
    },

    async listRooms ({ limit = 50, offset = 0 } = {}): Promise<PublicRoom[]> {
      return await Promise.all((await repository.listRooms(limit, offset)).map(toRoom))
    },

    /** A page of `listRooms` and the cursor of the next (null on the last page). */
    async listRoomPage ({ limit = 50, offset = 0, cursor }: { limit?: number, offset?: number, cursor?: string }) {
      const { items, next } = await repository.roomPage(limit, offset, decodeRoomCursor(cursor))
      return { rooms: await Promise.all(items.map(toRoom)), nextCursor: next ? encodeRoomCursor(next) : null }
    },

    /** The room, or ROOM_NOT_FOUND (404). */
    async getRoom (roomId: string): Promise<PublicRoom> {
      const row = await findRoom(roomId)
      if (!row) throw roomNotFound()
      return await toRoom(row)
    },

    async roomExists (roomId: string): Promise<boolean> {
      return await findRoom(roomId) !== null
    },

    async occupancy (roomId: string): Promise<number> {
      return await presence.count(roomScope(roomId))
    },

    /** An anonymous user bound to the HMAC of the creating IP. */
    async createUser (userName: string, ipHash: string): Promise<AnonymousUser> {
      const name = userName.trim()
      if (name === '') throw new AppError('INVALID_REQUEST', 'userName must not be blank')
      const row = await repository.insertUser({ userName: name, ipHash })
      return { userId: row.id, userName: row.userName }
    },

    verifyUser,

    /** REST join: takes a seat (ROOM_NOT_FOUND, ROOM_FULL); a member joining again keeps theirs. */
    async join (roomId: string, userId: string): Promise<{ joinedAt: Date, created: boolean }> {
      if (!isRoomId(roomId)) throw roomNotFound()
      // A member joining again keeps its seat: one read, without the room's lock, for which every
      // seat change of the room waits (a join that raced a leave is ordered before it).
      const existing = await repository.seatOf(roomId, userId)
      if (existing) return { joinedAt: existing.joinedAt, created: false }
      return await repository.inTransaction(async (seats) => await takeSeat(seats, roomId, userId))
    },

    /** REST leave: gives the seat back whether or not the user is present. */
    async removeMember (roomId: string, userId: string): Promise<boolean> {
      if (!isRoomId(roomId)) throw roomNotFound()
      return await repository.inTransaction(async (seats) => {
        if (!await seats.lockRoom(roomId)) throw roomNotFound()
        return await seats.deleteSeat(roomId, userId)
      })
    },

    ...createParticipants(options, seats, verifyUser)
  }
}

export type PublicRooms = ReturnType<typeof createPublicRooms>
