import { sql } from 'drizzle-orm'
import { bigint, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid, index, uniqueIndex } from 'drizzle-orm/pg-core'

/**
 * Seeds 001 and 004: persistent chat rooms. `kind` is 'group' (membership managed over REST,
 * checked on join) or 'channel' (created through the service API, open to join). Code rooms
 * (seed 003) are never stored. `lastSeq` hands out the per-room message sequence.
 */
export const chatRooms = pgTable('chat_rooms', {
  id: uuid('id').primaryKey().defaultRandom(),
  kind: text('kind').notNull(),
  name: text('name').notNull(),
  namespace: text('namespace').notNull().default('default'),
  createdBy: text('created_by'),
  metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull().default(0),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastActivityAt: timestamp('last_activity_at', { withTimezone: true }).notNull().defaultNow()
})

export const chatMembers = pgTable('chat_members', {
  roomId: uuid('room_id').notNull().references(() => chatRooms.id, { onDelete: 'cascade' }),
  userId: text('user_id').notNull(),
  userName: text('user_name').notNull(),
  role: text('role').notNull().default('member'),
  joinedAt: timestamp('joined_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [
  primaryKey({ columns: [t.roomId, t.userId] }),
  index('chat_members_user_idx').on(t.userId)
])

export const messages = pgTable('messages', {
  id: uuid('id').primaryKey().defaultRandom(),
  roomId: uuid('room_id').notNull().references(() => chatRooms.id, { onDelete: 'cascade' }),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  senderId: text('sender_id'),
  senderName: text('sender_name').notNull(),
  content: text('content').notNull(),
  type: text('type').notNull().default('text'),
  replyToId: uuid('reply_to_id'),
  clientMessageId: text('client_message_id'),
  metadata: jsonb('metadata').$type<Record<string, unknown>>(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  // Issue 21: each edit or the delete takes the next version; a deleted message is a tombstone
  // (content '' and no metadata) so that seqs and replies keep pointing somewhere.
  version: integer('version').notNull().default(1),
  editedAt: timestamp('edited_at', { withTimezone: true }),
  deletedAt: timestamp('deleted_at', { withTimezone: true })
}, (t) => [
  uniqueIndex('messages_room_seq_idx').on(t.roomId, t.seq),
  // A retry in the same room is the first message; the same id in another room is another one.
  uniqueIndex('messages_client_id_idx').on(t.roomId, t.senderId, t.clientMessageId).where(sql`${t.clientMessageId} is not null`)
])

/** Issue 21: one row per (message, user, emoji); the primary key makes a reaction idempotent. */
export const messageReactions = pgTable('message_reactions', {
  messageId: uuid('message_id').notNull().references(() => messages.id, { onDelete: 'cascade' }),
  userId: text('user_id').notNull(),
  emoji: text('emoji').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [
  primaryKey({ columns: [t.messageId, t.userId, t.emoji] }),
  index('message_reactions_emoji_idx').on(t.messageId, t.emoji)
])
