import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { chatMembers, chatRooms, messageReactions, messages } from '../db/schema/index.js'
import { isUuid, type MemberRole, type StoredKind, type Tx } from './repository.js'

type Executor = Db | Tx

/** A stored message as an edit, a delete or a reaction needs it, with the actor's standing in its room. */
export interface MessageTarget {
  id: string
  roomId: string
  kind: StoredKind
  seq: number
  senderId: string | null
  deleted: boolean
  /** The actor's role in the room (null: not a member). */
  role: MemberRole | null
  /** The actor created the room (a channel's moderator when it has no member rows). */
  creator: boolean
}

/** A message's state after an edit or the delete. */
export interface ChangedMessage {
  id: string
  seq: number
  version: number
  content: string
  editedAt: Date | null
  deletedAt: Date | null
}

const changed = {
  id: messages.id,
  seq: messages.seq,
  version: messages.version,
  content: messages.content,
  editedAt: messages.editedAt,
  deletedAt: messages.deletedAt
}

export type ReactionOutcome = 'added' | 'unchanged' | 'full' | 'missing'

/**
 * SQL of issue 21. Every change of a message is one conditional UPDATE (`deleted_at is null`,
 * and for an edit `sender_id`), so of two racing changes the database decides which one lands,
 * and each landed change takes the next `version`. Reactions of a message are written while its
 * row is locked: the distinct-emoji cap and a delete's cleanup see every committed reaction.
 */
export function createChangesRepository (db: Db) {
  return {
    async target (messageId: string, actorId: string): Promise<MessageTarget | null> {
      if (!isUuid(messageId)) return null
      const [row] = await db.select({
        id: messages.id,
        roomId: messages.roomId,
        kind: chatRooms.kind,
        seq: messages.seq,
        senderId: messages.senderId,
        deletedAt: messages.deletedAt,
        role: chatMembers.role,
        createdBy: chatRooms.createdBy
      }).from(messages)
        .innerJoin(chatRooms, eq(chatRooms.id, messages.roomId))
        .leftJoin(chatMembers, and(eq(chatMembers.roomId, messages.roomId), eq(chatMembers.userId, actorId)))
        .where(eq(messages.id, messageId))
      if (!row) return null
      return {
        id: row.id,
        roomId: row.roomId,
        kind: row.kind as StoredKind,
        seq: row.seq,
        senderId: row.senderId,
        deleted: row.deletedAt !== null,
        role: (row.role ?? null) as MemberRole | null,
        creator: row.createdBy !== null && row.createdBy === actorId
      }
    },

    /** The sender's new content; null when the message is gone (deleted meanwhile) or not theirs. */
    async edit (tx: Executor, messageId: string, senderId: string, content: string): Promise<ChangedMessage | null> {
      const [row] = await tx.update(messages)
        .set({ content, version: sql`${messages.version} + 1`, editedAt: sql`now()` })
        .where(and(eq(messages.id, messageId), eq(messages.senderId, senderId), isNull(messages.deletedAt)))
        .returning(changed)
      return row ?? null
    },

    /**
     * Makes the message a tombstone and drops its reactions, in `tx` (a transaction): the row lock
     * comes first, so the reaction delete's snapshot holds every reaction committed before it.
     */
    async remove (tx: Executor, messageId: string): Promise<ChangedMessage | null> {
      const locked = await tx.select({ id: messages.id }).from(messages)
        .where(and(eq(messages.id, messageId), isNull(messages.deletedAt))).for('update')
      if (locked.length === 0) return null
      const [row] = await tx.update(messages)
        .set({ content: '', metadata: null, version: sql`${messages.version} + 1`, deletedAt: sql`now()` })
        .where(eq(messages.id, messageId))
        .returning(changed)
      await tx.delete(messageReactions).where(eq(messageReactions.messageId, messageId))
      return row ?? null
    },

    /**
     * Adds the user's reaction unless the message has `max` distinct emoji without this one.
     * 'unchanged': it was there already; 'full': the cap; 'missing': the message is gone.
     */
    async react (messageId: string, userId: string, emoji: string, max: number): Promise<ReactionOutcome> {
      return await db.transaction(async (tx) => {
        const locked = await tx.select({ id: messages.id }).from(messages)
          .where(and(eq(messages.id, messageId), isNull(messages.deletedAt))).for('update')
        if (locked.length === 0) return 'missing'
        // After the lock, so the snapshot holds every reaction committed before it.
        const inserted = (await tx.execute<{ user_id: string }>(sql`
          insert into ${messageReactions} (message_id, user_id, emoji)
          select ${messageId}::uuid, ${userId}, ${emoji}
          where exists (select 1 from ${messageReactions} r where r.message_id = ${messageId}::uuid and r.emoji = ${emoji})
            or (select count(distinct r.emoji) from ${messageReactions} r where r.message_id = ${messageId}::uuid) < ${max}
          on conflict do nothing
          returning user_id`)).rows
        if (inserted.length > 0) return 'added'
        const [mine] = await tx.select({ userId: messageReactions.userId }).from(messageReactions)
          .where(and(eq(messageReactions.messageId, messageId), eq(messageReactions.userId, userId), eq(messageReactions.emoji, emoji)))
        return mine ? 'unchanged' : 'full'
      })
    },

    async unreact (messageId: string, userId: string, emoji: string): Promise<boolean> {
      const removed = await db.delete(messageReactions)
        .where(and(eq(messageReactions.messageId, messageId), eq(messageReactions.userId, userId), eq(messageReactions.emoji, emoji)))
        .returning({ userId: messageReactions.userId })
      return removed.length > 0
    },

    /** The messages with their reaction counts (one query for the lot). */
    async withReactions<M extends { id: string, reactions?: Record<string, number> }> (list: M[]): Promise<M[]> {
      const counts = await this.counts(db, list.map(m => m.id))
      return list.map(m => ({ ...m, reactions: counts.get(m.id) ?? {} }))
    },

    /** Reaction counts of live messages, emoji in a stable order (by their text), so a payload's keys do not reshuffle. */
    async counts (tx: Executor, messageIds: string[]): Promise<Map<string, Record<string, number>>> {
      const out = new Map<string, Record<string, number>>()
      if (messageIds.length === 0) return out
      const rows = await tx.select({ messageId: messageReactions.messageId, emoji: messageReactions.emoji, n: sql<number>`count(*)::int` })
        .from(messageReactions)
        .innerJoin(messages, and(eq(messages.id, messageReactions.messageId), isNull(messages.deletedAt)))
        .where(inArray(messageReactions.messageId, messageIds))
        .groupBy(messageReactions.messageId, messageReactions.emoji)
        .orderBy(asc(messageReactions.emoji))
      for (const row of rows) {
        const counts = out.get(row.messageId) ?? {}
        counts[row.emoji] = Number(row.n)
        out.set(row.messageId, counts)
      }
      return out
    }
  }
}

export type ChangesRepository = ReturnType<typeof createChangesRepository>
