import { and, count, desc, eq, sql, type Placeholder } from 'drizzle-orm'
import type { Page, RoomKey } from '../contract/cursor.js'
import type { Db } from '../db/index.js'
import { publicRoomMembers, publicRooms, publicUsers } from '../db/schema/public-rooms.js'

export type RoomRow = typeof publicRooms.$inferSelect
export type UserRow = typeof publicUsers.$inferSelect
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

const seat = (roomId: string | Placeholder, userId: string | Placeholder) => and(eq(publicRoomMembers.roomId, roomId), eq(publicRoomMembers.userId, userId))

/** Seat operations inside one transaction, after the room row is locked. */
function seatsOf (tx: Tx) {
  return {
    /** Locks the room row until the transaction ends; null when the room does not exist. */
    async lockRoom (roomId: string): Promise<Pick<RoomRow, 'capacity'> | null> {
      const [room] = await tx.select({ capacity: publicRooms.capacity }).from(publicRooms)
        .where(eq(publicRooms.id, roomId)).for('update')
      return room ?? null
    },

    async seatOf (roomId: string, userId: string): Promise<{ joinedAt: Date } | null> {
      const [row] = await tx.select({ joinedAt: publicRoomMembers.joinedAt }).from(publicRoomMembers).where(seat(roomId, userId))
      return row ?? null
    },

    async seatCount (roomId: string): Promise<number> {
      const [{ seats }] = await tx.select({ seats: count() }).from(publicRoomMembers).where(eq(publicRoomMembers.roomId, roomId))
      return seats
    },

    async insertSeat (roomId: string, userId: string): Promise<{ joinedAt: Date }> {
      const [row] = await tx.insert(publicRoomMembers).values({ roomId, userId }).returning({ joinedAt: publicRoomMembers.joinedAt })
      return row
    },

    /** Whether there was a seat to remove. */
    async deleteSeat (roomId: string, userId: string): Promise<boolean> {
      const removed = await tx.delete(publicRoomMembers).where(seat(roomId, userId)).returning({ userId: publicRoomMembers.userId })
      return removed.length > 0
    }
  }
}

export type SeatTransaction = ReturnType<typeof seatsOf>

/** The SQL half of seed 000's public rooms: rows of rooms, anonymous users and seats. */
export function createPublicRoomsRepository (db: Db) {
  // What every join, leave and room read runs, built once (drizzle builds a query's SQL on each
  // call otherwise) and, on PostgreSQL, prepared once per connection by name.
  const byId = db.select().from(publicRooms).where(eq(publicRooms.id, sql.placeholder('roomId'))).prepare('public_room_by_id')
  const userById = db.select().from(publicUsers).where(eq(publicUsers.id, sql.placeholder('userId'))).prepare('public_user_by_id')
  const seatOf = db.select({ joinedAt: publicRoomMembers.joinedAt }).from(publicRoomMembers)
    .where(seat(sql.placeholder('roomId'), sql.placeholder('userId'))).prepare('public_seat_of')
  return {
    async insertRoom (values: { name: string, capacity?: number, createdBy: string }): Promise<RoomRow> {
      const [row] = await db.insert(publicRooms).values(values).returning()
      return row
    },

    /** Newest first; the id breaks ties so that pages never overlap. */
    async listRooms (limit: number, offset: number): Promise<RoomRow[]> {
      return await db.select().from(publicRooms)
        .orderBy(desc(publicRooms.createdAt), publicRooms.id).limit(limit).offset(offset)
    },

    /** `listRooms` by keyset: the `limit` rooms after `after` (the last room of the page before). */
    async roomPage (limit: number, offset: number, after?: RoomKey): Promise<Page<RoomRow>> {
      const micros = sql<string>`(extract(epoch from ${publicRooms.createdAt}) * 1000000)::bigint`
      const rows = await db.select({ room: publicRooms, micros: sql<string>`${micros}::text` }).from(publicRooms)
        .where(after ? sql`(${micros} < ${after.createdMicros}::bigint or (${micros} = ${after.createdMicros}::bigint and ${publicRooms.id} > ${after.id}::uuid))` : undefined)
        .orderBy(desc(publicRooms.createdAt), publicRooms.id).limit(limit + 1).offset(offset)
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      return { items: page.map(r => r.room), next: rows.length > limit && last ? { createdMicros: last.micros, id: last.room.id } : null }
    },

    async roomById (roomId: string): Promise<RoomRow | null> {
      const [row] = await byId.execute({ roomId })
      return row ?? null
    },

    async insertUser (values: { userName: string, ipHash: string }): Promise<UserRow> {
      const [row] = await db.insert(publicUsers).values(values).returning()
      return row
    },

    async userById (userId: string): Promise<UserRow | null> {
      const [row] = await userById.execute({ userId })
      return row ?? null
    },

    /** The user's seat, read without the room's lock (a seat taken or given back meanwhile may not show). */
    async seatOf (roomId: string, userId: string): Promise<{ joinedAt: Date } | null> {
      const [row] = await seatOf.execute({ roomId, userId })
      return row ?? null
    },

    /** Runs `work` in one transaction: every seat change goes through a locked room row. */
    async inTransaction<T> (work: (seats: SeatTransaction) => Promise<T>): Promise<T> {
      return await db.transaction(async (tx) => await work(seatsOf(tx)))
    }
  }
}

export type PublicRoomsRepository = ReturnType<typeof createPublicRoomsRepository>
