import { and, count, desc, eq } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { publicRoomMembers, publicRooms, publicUsers } from '../db/schema/public-rooms.js'
import { AppError } from '../errors.js'
import type { Presence } from '../presence/service.js'
import type { AnonymousUserView as AnonymousUser, PublicRoomView as PublicRoom } from '../contract/public-rooms.js'

export interface PublicRoomsOptions {
  db: Db
  presence: Pick<Presence, 'connect' | 'join' | 'count' | 'scopesOf'>
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
type RoomRow = typeof publicRooms.$inferSelect

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Room ids as the API hands them out (lower case): anything else names no room. */
export const isRoomId = (value: string): boolean => UUID.test(value)

/** The presence scope of a public room. */
export const roomScope = (roomId: string): string => `public:${roomId}`

export const roomIdOfScope = (scope: string): string | null =>
  scope.startsWith('public:') ? scope.slice('public:'.length) : null

const roomNotFound = () => new AppError('ROOM_NOT_FOUND', 'Room not found', 404)
const invalidUser = () => new AppError('INVALID_USER', 'User not found or does not match this IP address')

/**
 * Seed 000's rooms and anonymous users. A membership row is a seat: the REST join takes one,
 * a socket `join-room` takes one when the user has none, and it is given back when the user
 * leaves (REST leave, or their last socket in the room leaving). Seats are counted against
 * `capacity` under a lock on the room row, so concurrent joins never overfill a room on any
 * number of instances. `currentOccupancy` is who is present now (presence, all instances).
 */
export function createPublicRooms (options: PublicRoomsOptions) {
  const { db, presence } = options

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
    if (!isRoomId(roomId)) return null
    const [row] = await db.select().from(publicRooms).where(eq(publicRooms.id, roomId))
    return row ?? null
  }

  /** Locks the room row until the transaction ends; every seat change goes through it. */
  async function lockRoom (tx: Tx, roomId: string): Promise<Pick<RoomRow, 'capacity'>> {
    const [room] = await tx.select({ capacity: publicRooms.capacity }).from(publicRooms)
      .where(eq(publicRooms.id, roomId)).for('update')
    if (!room) throw roomNotFound()
    return room
  }

  async function takeSeat (tx: Tx, roomId: string, userId: string): Promise<{ joinedAt: Date, created: boolean }> {
    const room = await lockRoom(tx, roomId)
    const seat = and(eq(publicRoomMembers.roomId, roomId), eq(publicRoomMembers.userId, userId))
    const [existing] = await tx.select({ joinedAt: publicRoomMembers.joinedAt }).from(publicRoomMembers).where(seat)
    if (existing) return { joinedAt: existing.joinedAt, created: false }
    const [{ seats }] = await tx.select({ seats: count() }).from(publicRoomMembers).where(eq(publicRoomMembers.roomId, roomId))
    if (seats >= room.capacity) throw new AppError('ROOM_FULL', `Room is full (capacity ${room.capacity})`, 409)
    const [row] = await tx.insert(publicRoomMembers).values({ roomId, userId }).returning({ joinedAt: publicRoomMembers.joinedAt })
    return { joinedAt: row.joinedAt, created: true }
  }

  return {
    async createRoom (input: { name: string, capacity?: number, createdBy: string }): Promise<PublicRoom> {
      const name = input.name.trim()
      if (name === '') throw new AppError('INVALID_REQUEST', 'name must not be blank')
      const [row] = await db.insert(publicRooms)
        .values({ name, createdBy: input.createdBy, ...(input.capacity !== undefined ? { capacity: input.capacity } : {}) })
        .returning()
      return await toRoom(row)
    },

    async listRooms ({ limit = 50, offset = 0 } = {}): Promise<PublicRoom[]> {
      const rows = await db.select().from(publicRooms)
        .orderBy(desc(publicRooms.createdAt), publicRooms.id).limit(limit).offset(offset)
      return await Promise.all(rows.map(toRoom))
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
      const [row] = await db.insert(publicUsers).values({ userName: name, ipHash }).returning()
      return { userId: row.id, userName: row.userName }
    },

    /** The user, if it exists and was created from this IP; INVALID_USER otherwise. */
    async verifyUser (userId: string, ipHash: string): Promise<AnonymousUser> {
      if (!UUID.test(userId)) throw invalidUser()
      const [row] = await db.select().from(publicUsers).where(eq(publicUsers.id, userId))
      if (!row || row.ipHash !== ipHash) throw invalidUser()
      return { userId: row.id, userName: row.userName }
    },

    /** REST join: takes a seat (ROOM_NOT_FOUND, ROOM_FULL); a member joining again keeps theirs. */
    async join (roomId: string, userId: string): Promise<{ joinedAt: Date, created: boolean }> {
      if (!isRoomId(roomId)) throw roomNotFound()
      return await db.transaction(async (tx) => await takeSeat(tx, roomId, userId))
    },

    /**
     * Socket join: a seat (as the REST join) and the socket's presence in the room, under one
     * lock so that a seat given back by the user's last socket never races a new socket's join.
     */
    async enter (roomId: string, userId: string, socketId: string): Promise<{ first: boolean, count: number }> {
      return await db.transaction(async (tx) => {
        await takeSeat(tx, roomId, userId)
        await presence.connect(socketId, userId)
        return await presence.join(socketId, roomScope(roomId))
      })
    },

    /** REST leave: gives the seat back whether or not the user is present. */
    async removeMember (roomId: string, userId: string): Promise<boolean> {
      if (!isRoomId(roomId)) throw roomNotFound()
      return await db.transaction(async (tx) => {
        await lockRoom(tx, roomId)
        const removed = await tx.delete(publicRoomMembers)
          .where(and(eq(publicRoomMembers.roomId, roomId), eq(publicRoomMembers.userId, userId)))
          .returning({ userId: publicRoomMembers.userId })
        return removed.length > 0
      })
    },

    /** After a socket left: gives the seat back unless the user is (again) present in the room. */
    async releaseSeatIfAbsent (roomId: string, userId: string): Promise<boolean> {
      return await db.transaction(async (tx) => {
        const [room] = await tx.select({ id: publicRooms.id }).from(publicRooms).where(eq(publicRooms.id, roomId)).for('update')
        if (!room) return false
        if ((await presence.scopesOf(userId)).includes(roomScope(roomId))) return false
        const removed = await tx.delete(publicRoomMembers)
          .where(and(eq(publicRoomMembers.roomId, roomId), eq(publicRoomMembers.userId, userId)))
          .returning({ userId: publicRoomMembers.userId })
        return removed.length > 0
      })
    }
  }
}

export type PublicRooms = ReturnType<typeof createPublicRooms>
