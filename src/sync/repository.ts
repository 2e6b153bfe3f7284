import { and, eq, gt, inArray, lte } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { syncParticipants, syncRooms } from '../db/schema/index.js'
import { AppError } from '../errors.js'
import type { Participant, SyncRoom } from '../contract/sync.js'
import type { SqlExecutor } from '../services/room-events.js'

export type RoomRow = typeof syncRooms.$inferSelect

/** A room deleted (or expired) with the seats it still had. */
export interface ClosedRoom { id: string, code: string, participants: Array<typeof syncParticipants.$inferSelect> }

/** How many fresh codes are tried before giving up (a collision is a 1 in 2^40 event). */
const CODE_ATTEMPTS = 5

export const toWireRoom = (row: RoomRow): SyncRoom => ({
  id: row.id,
  code: row.code,
  name: row.name,
  hasPassword: row.passwordHash !== null,
  maxParticipants: row.maxParticipants,
  mediaUrl: row.mediaUrl,
  ownerId: row.ownerId,
  createdAt: row.createdAt.toISOString(),
  lastActivityAt: row.lastActivityAt.toISOString(),
  expiresAt: row.expiresAt.toISOString()
})

export interface RoomRepositoryOptions {
  db: Db
  ttlMs: number
  generateCode: () => string
  now: () => number
}

/** The SQL half of watch-party rooms: rows of rooms and participants. */
export function createRoomRepository ({ db, ttlMs, generateCode, now }: RoomRepositoryOptions) {
  return {
    /** Inserts with a fresh code, retrying on the (unique) code's conflict. */
    async insert (values: { name: string, passwordHash: string | null, maxParticipants: number, mediaUrl: string | null, ownerId: string }): Promise<RoomRow> {
      for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
        const at = now()
        const rows = await db.insert(syncRooms)
          .values({ ...values, code: generateCode(), createdAt: new Date(at), lastActivityAt: new Date(at), expiresAt: new Date(at + ttlMs) })
          .onConflictDoNothing({ target: syncRooms.code })
          .returning()
        if (rows.length > 0) return rows[0]
      }
      throw new AppError('INTERNAL_ERROR', 'Could not allocate a room code', 500)
    },

    /** A room that has not expired, by its normalized code. */
    async byCode (code: string): Promise<RoomRow | null> {
      const [row] = await db.select().from(syncRooms)
        .where(and(eq(syncRooms.code, code), gt(syncRooms.expiresAt, new Date(now()))))
      return row ?? null
    },

    async byId (id: string): Promise<RoomRow | null> {
      const [row] = await db.select().from(syncRooms)
        .where(and(eq(syncRooms.id, id), gt(syncRooms.expiresAt, new Date(now()))))
      return row ?? null
    },

    /** Activity: the room lives another ttl from now (an expired one is not revived). */
    async touch (id: string, changes: { mediaUrl?: string | null } = {}): Promise<RoomRow | null> {
      const at = now()
      const [row] = await db.update(syncRooms)
        .set({ ...changes, lastActivityAt: new Date(at), expiresAt: new Date(at + ttlMs) })
        .where(and(eq(syncRooms.id, id), gt(syncRooms.expiresAt, new Date(at))))
        .returning()
      return row ?? null
    },

    /**
     * Deletes rooms with their participants in one transaction, handing `closing` what was
     * deleted to write in the same transaction (its room.vacated). With `id`: that room (null
     * when it was already gone); without: the expired ones. Each row goes to exactly one caller,
     * whichever instance (rows another transaction holds are skipped).
     */
    async close (closing: (rooms: ClosedRoom[], tx: SqlExecutor) => Promise<void>, id?: string): Promise<ClosedRoom[]> {
      return await db.transaction(async (tx) => {
        const rooms = await tx.select({ id: syncRooms.id, code: syncRooms.code }).from(syncRooms)
          .where(id === undefined ? lte(syncRooms.expiresAt, new Date(now())) : eq(syncRooms.id, id))
          .for('update', { skipLocked: true })
        if (rooms.length === 0) return []
        const ids = rooms.map(r => r.id)
        const seats = await tx.delete(syncParticipants).where(inArray(syncParticipants.roomId, ids)).returning()
        await tx.delete(syncRooms).where(inArray(syncRooms.id, ids))
        const closed = rooms.map(r => ({ ...r, participants: seats.filter(p => p.roomId === r.id).sort((x, y) => x.joinedAt.getTime() - y.joinedAt.getTime()) }))
        await closing(closed, tx)
        return closed
      })
    },

    async insertParticipant (roomId: string, p: Participant): Promise<void> {
      await db.insert(syncParticipants).values({
        id: p.id, roomId, userId: p.userId, displayName: p.displayName, isGuest: p.isGuest, isHost: p.isHost, joinedAt: new Date(p.joinedAt)
      })
    },

    async deleteParticipant (id: string): Promise<void> {
      await db.delete(syncParticipants).where(eq(syncParticipants.id, id))
    },

    /** Participant rows of a room (tests and maintenance). */
    async participantRows (roomId: string) {
      return await db.select().from(syncParticipants).where(eq(syncParticipants.roomId, roomId))
    }
  }
}

export type RoomRepository = ReturnType<typeof createRoomRepository>
