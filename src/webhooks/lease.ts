import { sql } from 'drizzle-orm'
import type { Db } from '../db/index.js'

export interface Lease {
  /** Takes the lease when it is free or expired, renews it when held; true while held. */
  acquire (): Promise<boolean>
  /** Lets another instance take it now instead of after the TTL. */
  release (): Promise<void>
}

/** A lease in SQL: one row per name, its holder and when it runs out (the database's clock). */
export function createLease (db: Db, name: string, holder: string, ttlMs: number): Lease {
  return {
    async acquire () {
      const result = await db.execute(sql`
        insert into webhook_leases (name, holder, expires_at)
        values (${name}, ${holder}, now() + ${ttlMs} * interval '1 millisecond')
        on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
        where webhook_leases.holder = excluded.holder or webhook_leases.expires_at < now()
        returning holder`)
      return result.rows.length > 0
    },
    async release () {
      await db.execute(sql`update webhook_leases set expires_at = now() where name = ${name} and holder = ${holder}`)
    }
  }
}
