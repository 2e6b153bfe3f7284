import { eq, sql } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { users } from '../db/schema/index.js'
import { AppError } from '../errors.js'
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js'
import type { Identity } from './identity.js'

type UserRow = typeof users.$inferSelect

const toIdentity = (row: UserRow): Identity => ({
  id: row.id, username: row.username, displayName: row.displayName, role: row.role
})

/** Registered users: registration, login and lookup. Knows nothing of Fastify. */
export function createUserService ({ db }: { db: Db }) {
  return {
    async register (input: { username: string, password: string, displayName?: string, role?: string }): Promise<Identity> {
      const passwordHash = await hashPassword(input.password)
      const displayName = input.displayName?.trim() || input.username
      const rows = await db.insert(users)
        .values({ username: input.username, displayName, passwordHash, role: input.role ?? 'user' })
        .onConflictDoNothing()
        .returning()
      if (rows.length === 0) throw new AppError('USERNAME_TAKEN', 'That username is taken', 409)
      return toIdentity(rows[0])
    },

    async login (username: string, password: string): Promise<Identity> {
      const [row] = await db.select().from(users).where(eq(sql`lower(${users.username})`, username.toLowerCase()))
      const ok = await verifyPassword(password, row?.passwordHash ?? DUMMY_HASH)
      if (!row || !ok) throw new AppError('INVALID_CREDENTIALS', 'Wrong username or password', 401)
      return toIdentity(row)
    },

    async byId (id: string): Promise<Identity | null> {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return null
      const [row] = await db.select().from(users).where(eq(users.id, id))
      return row ? toIdentity(row) : null
    }
  }
}

export type UserService = ReturnType<typeof createUserService>
