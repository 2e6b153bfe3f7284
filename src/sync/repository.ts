import { and, eq, gt, lte } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { syncParticipants, syncRooms } from '../db/schema/index.js'
import { AppError } from '../errors.js'
import type { Participant, SyncRoom } from '../contract/sync.js'

export type RoomRow = typeof syncRooms.$inferSelect

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

    /** Deletes the room (participants cascade); false when it was already gone. */
    async delete (id: string): Promise<boolean> {
      const rows = await db.delete(syncRooms).where(eq(syncRooms.id, id)).returning({ id: syncRooms.id })
      return rows.length > 0
    },

    /** Deletes expired rooms; each row is returned to exactly one caller, whichever instance. */
    async deleteExpired (): Promise<Array<{ id: string, code: string }>> {
      return await db.delete(syncRooms)
        .where(lte(syncRooms.expiresAt, new Date(now())))
        .returning({ id: syncRooms.id, code: syncRooms.code })
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
