import { bigint, index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { chatRooms } from './chat.js'

/**
 * Issue 21, read receipts: the highest seq a user has read in a group or channel. Only ever
 * raised (`greatest`), so a late or replayed `mark_read` with a lower seq changes nothing.
 */
export const chatReads = pgTable('chat_reads', {
  roomId: uuid('room_id').notNull().references(() => chatRooms.id, { onDelete: 'cascade' }),
  userId: text('user_id').notNull(),
  lastReadSeq: bigint('last_read_seq', { mode: 'number' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [
  primaryKey({ columns: [t.roomId, t.userId] })
])

/**
 * Issue 21, moderation: a ban or a mute in force, per room of any kind (`group`, `channel`,
 * `public`, `sync`; `room_id` is text: public and sync rooms have ids of their own). `until`
 * null: until lifted. The send path reads it inside its insert statement, the join paths on join.
 */
export const moderationSanctions = pgTable('moderation_sanctions', {
  roomKind: text('room_kind').notNull(),
  roomId: text('room_id').notNull(),
  userId: text('user_id').notNull(),
  /** 'ban' | 'mute' */
  kind: text('kind').notNull(),
  until: timestamp('until', { withTimezone: true }),
  createdBy: text('created_by'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [
  primaryKey({ columns: [t.roomKind, t.roomId, t.userId, t.kind] })
])

/** Every moderation action, kept: who did what to whom, where, until when. */
export const moderationActions = pgTable('moderation_actions', {
  id: uuid('id').primaryKey().defaultRandom(),
  /** 'kick' | 'ban' | 'unban' | 'mute' | 'unmute' */
  action: text('action').notNull(),
  roomKind: text('room_kind').notNull(),
  roomId: text('room_id').notNull(),
  targetUserId: text('target_user_id').notNull(),
  /** A user id, or null for the admin API key. */
  actorId: text('actor_id'),
  /** 'member' (a room owner/admin/host over a socket) | 'admin' (admin REST) */
  actorKind: text('actor_kind').notNull(),
  until: timestamp('until', { withTimezone: true }),
  reason: text('reason'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [
  index('moderation_actions_room_idx').on(t.roomKind, t.roomId, t.createdAt),
  index('moderation_actions_created_idx').on(t.createdAt, t.id)
])
