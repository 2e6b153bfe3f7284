import { and, asc, gt, like, sql } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { users } from '../db/schema/index.js'
import type { UserSearchResult } from '../contract/users.js'

const lowerName = sql<string>`lower(${users.username})`

/** LIKE's wildcards taken literally (`_` is in the username alphabet). */
const literal = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`)

/**
 * Registered users by the start of their username, case-insensitively, in username order; the
 * cursor is the last lower-cased username of a page (unique, see users_username_lower_idx).
 * Only public fields are read: never the password hash or the role.
 */
export function createUserDirectory ({ db }: { db: Db }) {
  return {
    async search ({ q = '', limit = 50, cursor }: { q?: string, limit?: number, cursor?: string }): Promise<UserSearchResult> {
      const conditions = [like(lowerName, `${literal(q.toLowerCase())}%`)]
      if (cursor !== undefined) conditions.push(gt(lowerName, cursor))
      const rows = await db
        .select({ id: users.id, username: users.username, displayName: users.displayName })
        .from(users)
        .where(and(...conditions))
        .orderBy(asc(lowerName))
        .limit(limit + 1)
      const page = rows.slice(0, limit)
      return { users: page, nextCursor: rows.length > limit ? page[page.length - 1].username.toLowerCase() : null }
    }
  }
}

export type UserDirectory = ReturnType<typeof createUserDirectory>
