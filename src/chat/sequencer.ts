import type { Pool, PoolClient } from 'pg'
import type { SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { Database, Db } from '../db/index.js'
import * as schema from '../db/schema/index.js'
import type { Statement, Tx } from './repository.js'

export interface Sequencer {
  /**
   * Runs `store` (in a transaction on PGlite; on PostgreSQL its single statement commits on its
   * own), then `publish` with its result once it is committed, while
   * holding the room's lock from before the transaction until `publish` resolves. The next
   * message of the room takes its seq only after this one was handed to the adapter, so every
   * instance's broadcasts of a room leave in seq order (the adapter's stream keeps that order).
   * Resolves once `publish` has; on PostgreSQL the lock is released right after, in the room's
   * queue. `transaction`: on PostgreSQL too, `store` runs between BEGIN and COMMIT (it writes
   * more than its one statement: a webhook event with the message).
   */
  run<T> (roomId: string, store: (tx: Tx, statement: Statement) => Promise<T>, publish: (result: T) => Promise<void>, options?: { transaction?: boolean }): Promise<T>
}

/** One promise chain per key: work for a key runs one at a time, in call order. */
export function createKeyedQueue () {
  const tails = new Map<string, Promise<void>>()
  return function enqueue<T> (key: string, work: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve()
    const run = previous.then(work)
    const tail = run.then(() => {}, () => {})
    tails.set(key, tail)
    tail.then(() => { if (tails.get(key) === tail) tails.delete(key) })
    return run
  }
}

/**
 * In-process, a queue per room orders the sends of this instance (and keeps it to one pooled
 * connection per room). On PostgreSQL a session advisory lock per room, taken on that pinned
 * connection, orders the instances; PGlite is one process, so the queue is enough there.
 */
export function createSequencer (database: Database): Sequencer {
  const enqueue = createKeyedQueue()

  if (database.kind !== 'postgres') {
    return {
      run (roomId, store, publish) {
        return enqueue(roomId, async () => {
          const result = await database.db.transaction((tx) => store(tx, async <R extends Record<string, unknown>>(_name: string, query: SQL) => (await tx.execute<R>(query)).rows as R[]))
          await publish(result)
          return result
        })
      }
    }
  }

  const pool = (database.db as unknown as { $client: Pool }).$client
  // A drizzle per pinned client: the pool reuses its clients, so this stays small.
  const pinned = new WeakMap<PoolClient, Db>()
  const dbOf = (client: PoolClient): Db => {
    let db = pinned.get(client)
    if (!db) {
      db = drizzle(client, { schema }) as unknown as Db
      pinned.set(client, db)
    }
    return db
  }

  async function inTransaction<T> (client: PoolClient, work: () => Promise<T>): Promise<T> {
    await client.query('begin')
    try {
      const result = await work()
      await client.query('commit')
      return result
    } catch (err) {
      await client.query('rollback').catch(() => {})
      throw err
    }
  }

  const dialect = new PgDialect()
  const statementOn = (client: PoolClient): Statement => async (name, query) => {
    const { sql: text, params } = dialect.sqlToQuery(query)
    return (await client.query({ name, text, values: params })).rows
  }

  return {
    run<T> (roomId: string, store: (tx: Tx, statement: Statement) => Promise<T>, publish: (result: T) => Promise<void>, options: { transaction?: boolean } = {}): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        enqueue(roomId, async () => {
          const client = await pool.connect()
          const key = `roomwire:chat:${roomId}`
          // Set when the connection may be broken: the client is then destroyed, not reused.
          let broken: Error | undefined
          try {
            await client.query({ name: 'roomwire_room_lock', text: 'select pg_advisory_lock(hashtextextended($1, 0))', values: [key] })
              .catch((err: Error) => { broken = err; throw err })
            try {
              // No BEGIN/COMMIT: the lock orders the room's sends, and the insert is one statement
              // (repository.insertMessage), atomic on its own; two round trips fewer per message.
              const result = options.transaction === true
                ? await inTransaction(client, () => store(dbOf(client) as unknown as Tx, statementOn(client)))
                : await store(dbOf(client) as unknown as Tx, statementOn(client))
              await publish(result)
              // Stored and handed to the adapter: the sender's ack need not wait for the unlock.
              // The room's queue does, so this instance's next send of the room finds it free.
              resolve(result)
            } finally {
              // Unlocking fails only on a broken connection; destroying the client ends the
              // session, which releases the lock on the server.
              await client.query({ name: 'roomwire_room_unlock', text: 'select pg_advisory_unlock(hashtextextended($1, 0))', values: [key] })
                .catch((err: Error) => { broken = err })
            }
          } finally {
            client.release(broken)
          }
        }).catch(reject)
      })
    }
  }
}
