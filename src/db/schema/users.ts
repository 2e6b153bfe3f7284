import { sql } from 'drizzle-orm'
import { pgTable, text, timestamp, uuid, uniqueIndex } from 'drizzle-orm/pg-core'

/** Registered users (CONTRACT §3). Other tables hold user ids as text: an embedding app may
 * sign tokens for users that live in its own database. */
export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  username: text('username').notNull(),
  displayName: text('display_name').notNull(),
  passwordHash: text('password_hash').notNull(),
  role: text('role').notNull().default('user'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
}, (t) => [
  uniqueIndex('users_username_lower_idx').on(sql`lower(${t.username})`)
])
