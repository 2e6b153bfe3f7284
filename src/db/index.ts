import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import { sql } from 'drizzle-orm'
import * as schema from './schema/index.js'
import { migrationsFolder } from '../paths.js'
import { lockDataDir } from './data-dir-lock.js'
import { startPgliteWorker, type PgliteClient } from './pglite-client.js'
import type { PGlite } from '@electric-sql/pglite'

/** Both backends speak PostgreSQL through drizzle; the node-postgres type stands for both. */
export type Db = NodePgDatabase<typeof schema>

export interface Database {
  readonly db: Db
  readonly kind: 'postgres' | 'pglite'
  ping (): Promise<void>
  close (): Promise<void>
}

export interface DatabaseOptions {
  databaseUrl?: string
  dataDir: string
  /**
   * A dump of a migrated cluster (`snapshotPglite`) to start an in-memory PGlite from: initdb is
   * most of PGlite's start-up, and the test suite opens one per file.
   */
  pgliteSnapshot?: Blob
}

// Any 64-bit number works: every roomwire instance takes the same lock so that instances
// starting together apply the migrations once.
const MIGRATION_LOCK = 727_274_933

export async function createDatabase (options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl
    ? await createPostgres(options.databaseUrl)
    : await createPglite(options.dataDir, options.pgliteSnapshot)
}

async function createPostgres (url: string): Promise<Database> {
  const { default: pg } = await import('pg')
  const { drizzle } = await import('drizzle-orm/node-postgres')
  const { migrate } = await import('drizzle-orm/node-postgres/migrator')
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000 })
  // A client whose connection drops (server restart, network) emits 'error'. While idle the pool
  // listens and replaces it; while checked out (a drizzle transaction, the chat sequencer's pinned
  // connection) nothing would, and an unheard 'error' event ends the process. With a listener
  // on every client the work in flight rejects instead, and the pool drops the broken client on
  // release (it is no longer queryable).
  pool.on('error', () => {})
  pool.on('connect', (client) => { client.on('error', () => {}) })
  const db = drizzle(pool, { schema })
  const lock = await pool.connect().catch(async (err: Error) => {
    await pool.end()
    throw new Error(`PostgreSQL at ${redact(url)} is not reachable: ${err.message}`)
  })
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK])
    await migrate(db, { migrationsFolder })
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
    lock.release()
  }
  return {
    db,
    kind: 'postgres',
    async ping () { await db.execute(sql`select 1`) },
    async close () { await pool.end() }
  }
}

async function createPglite (dataDir: string, snapshot?: Blob): Promise<Database> {
  const { client, db, release } = await openPglite(dataDir, snapshot)
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    async ping () { await client.query('select 1') },
    async close () {
      try {
        await client.close()
      } finally {
        release()
      }
    }
  }
}

/**
 * PGlite on `dataDir` (or in memory, from `snapshot` when given), migrated, in a thread of its
 * own (`pglite-client.ts`): its queries and its heap stay off the sockets' thread.
 */
async function openPglite (dataDir: string, snapshot?: Blob) {
  const { drizzle } = await import('drizzle-orm/pglite')
  const { migrate } = await import('drizzle-orm/pglite/migrator')
  let dir = 'memory'
  let release = () => {}
  if (dataDir !== 'memory') {
    dir = resolve(dataDir)
    mkdirSync(dir, { recursive: true })
    // Before PGlite touches the directory: a second process on it would damage the cluster.
    release = lockDataDir(dir)
  }
  let client: PgliteClient | undefined
  try {
    client = await startPgliteWorker({ dataDir: dir, snapshot })
    // drizzle-orm's pglite driver uses only what the worker's client has (query, exec, transaction).
    const db = drizzle(client as unknown as PGlite, { schema })
    // Against a snapshot this only reads the journal: every migration is applied already.
    await migrate(db, { migrationsFolder })
    return { client, db, release }
  } catch (err) {
    await client?.close().catch(() => {})
    release()
    throw err
  }
}

/** A fresh in-memory cluster with every migration applied, dumped for `pgliteSnapshot` (in this thread: a dump is a Blob of PGlite's). */
export async function snapshotPglite (): Promise<Blob> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { drizzle } = await import('drizzle-orm/pglite')
  const { migrate } = await import('drizzle-orm/pglite/migrator')
  const client = new PGlite()
  try {
    await migrate(drizzle(client, { schema }), { migrationsFolder })
    return await client.dumpDataDir('none')
  } finally {
    await client.close()
  }
}

export function redact (url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}
