import { boolean, integer, pgTable, text, timestamp, uuid, index } from 'drizzle-orm/pg-core'

/** Seed 002: watch-party rooms joined by an 8-character code, and their participants. */
export const syncRooms = pgTable('sync_rooms', {
  id: uuid('id').primaryKey().defaultRandom(),
  code: text('code').notNull().unique(),
  name: text('name').notNull(),
  passwordHash: text('password_hash'),
  maxParticipants: integer('max_participants').notNull().default(10),
  mediaUrl: text('media_url'),
  ownerId: text('owner_id').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastActivityAt: timestamp('last_activity_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull()
}, (t) => [
  index('sync_rooms_expires_idx').on(t.expiresAt)
])

export const syncParticipants = pgTable('sync_participants', {
  id: uuid('id').primaryKey().defaultRandom(),
  roomId: uuid('room_id').notNull().references(() => syncRooms.id, { onDelete: 'cascade' }),
  userId: text('user_id'),
  displayName: text('display_name').notNull(),
  isGuest: boolean('is_guest').notNull(),
  isHost: boolean('is_host').notNull().default(false),
  joinedAt: timestamp('joined_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [
  index('sync_participants_room_idx').on(t.roomId)
])
