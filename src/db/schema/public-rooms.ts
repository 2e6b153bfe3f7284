import { integer, pgTable, primaryKey, text, timestamp, uuid, index } from 'drizzle-orm/pg-core'

/** Seed 000: public study rooms, anonymous users bound to the HMAC of their IP, membership. */
export const publicRooms = pgTable('public_rooms', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  capacity: integer('capacity').notNull().default(10),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
})

export const publicUsers = pgTable('public_users', {
  id: uuid('id').primaryKey().defaultRandom(),
  userName: text('user_name').notNull(),
  ipHash: text('ip_hash').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
})

export const publicRoomMembers = pgTable('public_room_members', {
  roomId: uuid('room_id').notNull().references(() => publicRooms.id, { onDelete: 'cascade' }),
  userId: uuid('user_id').notNull().references(() => publicUsers.id, { onDelete: 'cascade' }),
  joinedAt: timestamp('joined_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [
  primaryKey({ columns: [t.roomId, t.userId] }),
  index('public_room_members_user_idx').on(t.userId)
])
