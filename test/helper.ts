import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { io as ioClient, type Socket, type ManagerOptions, type SocketOptions } from 'socket.io-client'
import { Redis } from 'ioredis'
import { buildApp, type BuildOptions } from '../src/app.js'
import { createDatabase, snapshotPglite, type Database } from '../src/db/index.js'
import { migrationsFolder, packageRoot } from '../src/paths.js'

type Test = Pick<typeof t, 'teardown'>

export type Mode = 'embedded' | 'services'

export const JWT_SECRET = 'test-secret-that-is-long-enough-0123456789'
export const IP_HASH_SECRET = 'test-ip-hash-secret-0123456789abcdef'
export const ADMIN_API_KEY = 'test-admin-key-0123456789abcdef'

/** Services run when CI (or you) set DATABASE_URL and REDIS_URL; embedded mode always runs. */
export function modes (): Mode[] {
  return process.env.DATABASE_URL && process.env.REDIS_URL ? ['embedded', 'services'] : ['embedded']
}

export function servicesSkipReason (): string | false {
  if (process.env.DATABASE_URL && process.env.REDIS_URL) return false
  return 'DATABASE_URL and REDIS_URL not set: PostgreSQL + Redis mode skipped'
}

/**
 * RW_TEST_FULL=1 (.ci/run sets it): the long sizes of the soak and the benchmark smoke run. Without it
 * `npm test` runs the short form of the same checks and says so, to stay within minutes on 2 cores.
 */
export const fullRun = process.env.RW_TEST_FULL === '1'
export const SHORT_RUN_NOTE = 'short form: RW_TEST_FULL=1 npx tap <file> runs the full size (CI does)'

let pglite: Promise<Database> | undefined
let snapshot: Promise<Blob> | undefined
const freshDatabases = new Map<string, Promise<string>>()

/** One PGlite per test file (it takes seconds to start), closed when the file ends. */
export function sharedPglite (): Promise<Database> {
  if (!pglite) {
    pglite = freshPglite()
    t.teardown(async () => { await (await pglite!).close() })
  }
  return pglite
}

/** An in-memory PGlite of its own, migrated, started from the suite's snapshot; the caller closes it. */
export async function freshPglite (): Promise<Database> {
  snapshot ??= pgliteSnapshot()
  return await createDatabase({ dataDir: 'memory', pgliteSnapshot: await snapshot })
}

/**
 * A migrated, empty cluster, made once for the whole suite and kept in .tap/pglite/: initdb takes
 * seconds of the 2 cores per file, loading the dump a fraction. The name hashes the migrations
 * and PGlite's version, so a changed schema or PGlite makes a new one.
 */
async function pgliteSnapshot (): Promise<Blob> {
  const hash = createHash('sha256').update(readFileSync(join(packageRoot, 'node_modules', '@electric-sql', 'pglite', 'package.json')))
  const files = readdirSync(migrationsFolder, { recursive: true, encoding: 'utf8' }).sort()
  for (const file of files) {
    const path = join(migrationsFolder, file)
    if (statSync(path).isFile()) hash.update(file).update(readFileSync(path))
  }
  const path = join(packageRoot, '.tap', 'pglite', `${hash.digest('hex').slice(0, 16)}.tar`)
  if (existsSync(path)) return new Blob([readFileSync(path)])
  const made = await snapshotPglite()
  // Files running in parallel may make it at once: each writes its own and renames it in place.
  mkdirSync(dirname(path), { recursive: true })
  const partial = `${path}.${process.pid}.tmp`
  writeFileSync(partial, Buffer.from(await made.arrayBuffer()))
  renameSync(partial, path)
  return made
}

/** A database of its own per test file (keyed by `name`), dropped when the file ends. */
export function freshPostgresUrl (name = 'default'): Promise<string> {
  const base = process.env.DATABASE_URL
  if (!base) throw new Error('DATABASE_URL not set')
  let created = freshDatabases.get(name)
  if (!created) {
    created = (async () => {
      const { default: pg } = await import('pg')
      const dbName = `rw_test_${randomBytes(6).toString('hex')}`
      const admin = new pg.Client({ connectionString: base })
      await admin.connect()
      await admin.query(`create database ${dbName}`)
      await admin.end()
      t.teardown(async () => {
        const c = new pg.Client({ connectionString: base })
        await c.connect()
        await c.query(`drop database if exists ${dbName} with (force)`)
        await c.end()
      })
      const url = new URL(base)
      url.pathname = `/${dbName}`
      return url.toString()
    })()
    freshDatabases.set(name, created)
  }
  return created
}

/** A Redis key prefix of its own, whose keys are deleted when the file ends. */
export function freshRedisPrefix (): string {
  const prefix = `rwtest:${randomUUID().slice(0, 8)}:`
  t.teardown(async () => { await deleteRedisKeys(prefix) })
  return prefix
}

export async function deleteRedisKeys (prefix: string): Promise<void> {
  const url = process.env.REDIS_URL
  if (!url) return
  const redis = new Redis(url)
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
    if (keys.length > 0) await redis.del(...keys)
    cursor = next
  } while (cursor !== '0')
  redis.disconnect()
}

export interface TestAppOptions extends BuildOptions {
  mode?: Mode
  /** Shares one Redis prefix / database between several instances in one test. */
  shared?: { prefix?: string, databaseName?: string }
  listen?: boolean
}

export interface TestApp {
  app: FastifyInstance
  url: string
  prefix: string
}

/** Builds an app with test settings, optionally listening on a free port; closed on teardown. */
export async function buildTestApp (test: Test, options: TestAppOptions = {}): Promise<TestApp> {
  const { mode = 'embedded', shared = {}, listen = true, env: extraEnv, ...rest } = options
  const env: NodeJS.ProcessEnv = {
    JWT_SECRET, IP_HASH_SECRET, ADMIN_API_KEY, LOG_LEVEL: 'silent', ...extraEnv
  }
  let prefix = ''
  const build: BuildOptions = { ...rest, env }
  if (mode === 'services') {
    prefix = shared.prefix ?? freshRedisPrefix()
    env.REDIS_URL = process.env.REDIS_URL
    env.REDIS_KEY_PREFIX = prefix
    env.DATABASE_URL = await freshPostgresUrl(shared.databaseName)
  } else {
    build.database ??= await sharedPglite()
  }
  const app = await buildApp(build)
  test.teardown(() => app.close())
  let url = ''
  if (listen) {
    await app.listen({ port: 0, host: '127.0.0.1' })
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  } else {
    await app.ready()
  }
  return { app, url, prefix }
}

/** A socket.io-client socket, websocket only, closed on teardown. */
export function connect (test: Test, url: string, options: Partial<ManagerOptions & SocketOptions> = {}): Socket {
  const socket = ioClient(url, { transports: ['websocket'], forceNew: true, reconnection: false, ...options })
  test.teardown(() => { socket.disconnect() })
  return socket
}

/** The next `event` on an emitter, or a rejection naming it after `ms`. */
export function once<T = any> (socket: Pick<Socket, 'once' | 'off'>, event: string, ms = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener)
      reject(new Error(`timed out waiting for "${event}"`))
    }, ms)
    const listener = (value: T) => { clearTimeout(timer); resolve(value) }
    socket.once(event, listener)
  })
}

/**
 * The first `event` whose payload satisfies `predicate`, from a listener that stays attached
 * until then: frames that arrive in one TCP read are emitted in one go, so a loop of `once`
 * (re-attached after each) misses the later of two events that came together.
 */
export function onceMatching<T = any> (socket: Pick<Socket, 'on' | 'off'>, event: string, predicate: (value: T) => boolean, ms = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener)
      reject(new Error(`timed out waiting for "${event}" that satisfies the test`))
    }, ms)
    const listener = (value: T) => {
      if (!predicate(value)) return
      clearTimeout(timer)
      socket.off(event, listener)
      resolve(value)
    }
    socket.on(event, listener)
  })
}

/** Resolves when the socket connects; rejects with the connect_error. */
export function connected (socket: Socket, ms = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve()
    const timer = setTimeout(() => reject(new Error('timed out connecting')), ms)
    socket.once('connect', () => { clearTimeout(timer); resolve() })
    socket.once('connect_error', (err) => { clearTimeout(timer); reject(err) })
  })
}

/** Registers a user through REST and returns its token and id. */
export async function registerUser (app: FastifyInstance, username = `u${randomBytes(4).toString('hex')}`, displayName?: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { username, password: 'correct horse battery', ...(displayName ? { displayName } : {}) }
  })
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
  const body = res.json() as { token: string, user: { id: string, username: string, displayName: string } }
  return { token: body.token, user: body.user }
}
