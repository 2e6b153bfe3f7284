import { and, eq, inArray, lt, sql } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { chatReads, chatRooms, messages } from '../db/schema/index.js'

export interface UnreadRow { roomId: string, lastReadSeq: number, lastSeq: number, unread: number }

/** SQL of read receipts (issue 21): each user's last read seq per room, and unread counts. */
export function createReadsRepository (db: Db) {
  return {
    /**
     * Raises the user's last read seq of the room to `seq` (never lowers it); answers the stored
     * value and whether it changed, in one statement.
     */
    async raise (roomId: string, userId: string, seq: number): Promise<{ lastReadSeq: number, raised: boolean }> {
      const raised = await db.insert(chatReads).values({ roomId, userId, lastReadSeq: seq })
        .onConflictDoUpdate({
          target: [chatReads.roomId, chatReads.userId],
          set: { lastReadSeq: seq, updatedAt: sql`now()` },
          setWhere: lt(chatReads.lastReadSeq, seq)
        }).returning({ lastReadSeq: chatReads.lastReadSeq })
      if (raised.length > 0) return { lastReadSeq: Number(raised[0].lastReadSeq), raised: true }
      const [row] = await db.select({ lastReadSeq: chatReads.lastReadSeq }).from(chatReads)
        .where(and(eq(chatReads.roomId, roomId), eq(chatReads.userId, userId)))
      return { lastReadSeq: Number(row?.lastReadSeq ?? 0), raised: false }
    },

    /**
     * The user's unread count in each room: messages stored after their last read seq, not sent
     * by them (their own messages are read). Rooms not found are left out.
     */
    async unread (roomIds: string[], userId: string): Promise<UnreadRow[]> {
      if (roomIds.length === 0) return []
      const lastRead = sql`coalesce(${chatReads.lastReadSeq}, 0)`
      const rows = await db.select({
        roomId: chatRooms.id,
        lastSeq: chatRooms.lastSeq,
        lastReadSeq: sql<number>`${lastRead}`,
        unread: sql<number>`(select count(*)::int from ${messages} m where m.room_id = ${chatRooms.id}
          and m.seq > ${lastRead} and m.sender_id is distinct from ${userId})`
      }).from(chatRooms)
        .leftJoin(chatReads, and(eq(chatReads.roomId, chatRooms.id), eq(chatReads.userId, userId)))
        .where(inArray(chatRooms.id, roomIds))
      return rows.map(r => ({ roomId: r.roomId, lastSeq: Number(r.lastSeq), lastReadSeq: Number(r.lastReadSeq), unread: Number(r.unread) }))
    }
  }
}

export type ReadsRepository = ReturnType<typeof createReadsRepository>
