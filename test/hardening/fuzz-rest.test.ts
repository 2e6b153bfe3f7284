import t from 'tap'
import fc from 'fast-check'
import { is } from 'drizzle-orm'
import { PgTable } from 'drizzle-orm/pg-core'
import * as schema from '../../src/db/schema/index.js'
import type { Store } from '../../src/store/types.js'
import { ADMIN_API_KEY, buildTestApp, modes, registerUser, servicesSkipReason } from '../helper.js'
import { inner } from '../sync/fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

const NUM_RUNS = 30

/** Every REST route of routes/*.ts. */
const ROUTES = [
  'POST /api/auth/register', 'POST /api/auth/login', 'GET /api/auth/me',
  'POST /api/channels', 'GET /api/channels', 'GET /api/channels/:id', 'GET /api/channels/:id/messages',
  'POST /api/groups', 'GET /api/groups', 'GET /api/groups/:id', 'DELETE /api/groups/:id',
  'POST /api/groups/:id/members', 'DELETE /api/groups/:id/members/:userId', 'GET /api/groups/:id/messages',
  'GET /api/groups/:id/presence',
  'GET /health', 'GET /ready',
  'POST /api/public/rooms', 'GET /api/public/rooms', 'GET /api/public/rooms/:roomId', 'POST /api/public/users',
  'POST /api/public/rooms/:roomId/join', 'POST /api/public/rooms/:roomId/leave',
  'POST /api/sync/rooms', 'GET /api/sync/rooms/:code', 'DELETE /api/sync/rooms/:code',
  // Admin and service API (routes/admin.ts): an admin JWT or `x-api-key: ADMIN_API_KEY`.
  'POST /api/rooms', 'GET /api/rooms', 'GET /api/rooms/:id', 'DELETE /api/rooms/:id', 'GET /api/rooms/:id/messages',
  'GET /api/rooms/:id/stats', 'POST /api/broadcast', 'GET /api/stats', 'POST /api/users/:id/disconnect'
] as const
const isAdminRoute = (pattern: string) => /^\/api\/(rooms|broadcast|stats|users)(\/|$)/.test(pattern)

/** Who calls: nobody, a user, the admin key, a wrong key, or a Bearer that is not a JWT. */
const CREDENTIALS = ['none', 'user', 'admin key', 'wrong key', 'garbage bearer'] as const
type Credential = typeof CREDENTIALS[number]

const FIELDS = ['username', 'password', 'displayName', 'name', 'description', 'isPrivate', 'userId', 'role', 'userName',
  'capacity', 'mediaUrl', 'maxParticipants', 'type', 'limit', 'before', 'cursor']

const value = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.string({ maxLength: 4096 }),
  fc.constantFrom('', ' ', '\u0000', '-1', '1e309', 'null', '<script>', '../../etc/passwd', 'x'.repeat(5000)),
  fc.double(),
  fc.integer()
)
const body = fc.oneof(
  fc.constant(undefined),
  value.map((v) => ({ json: v })),
  fc.dictionary(fc.constantFrom(...FIELDS, '__proto__', 'constructor', 'extra'), value, { maxKeys: 8 }).map((v) => ({ json: v })),
  fc.tuple(fc.constantFrom('__proto__', 'constructor'), fc.jsonValue({ maxDepth: 2 }))
    .map(([key, inner]) => ({ raw: `{"${key}": ${JSON.stringify(inner) ?? 'null'}, "name": "x"}` })),
  fc.string({ maxLength: 200 }).map((s) => ({ raw: s })),
  fc.integer({ min: 1, max: 2000 }).map((n) => ({ raw: '['.repeat(n) + ']'.repeat(n) }))
)
const param = fc.oneof(fc.string({ maxLength: 300 }), fc.uuid(), fc.constantFrom('0', '-1', 'null', '%00', '..', 'ABCDEFGH'))
const query = fc.dictionary(fc.constantFrom('limit', 'before', 'after', 'cursor', 'type', 'page', 'offset', 'namespace', 'x'), fc.string({ maxLength: 50 }), { maxKeys: 4 })

/** Store keys that change with any request (REST rate-limit counters) or none (heartbeats). */
const VOLATILE = /^(instances|instance:[^:]+:(alive|ops)|sync:instances|rl:.*|limit:.*|socket\.io.*|sio:session:.*)$/

/** Tables the instance writes by itself on a timer (the webhook sender's lease renewal). */
const BACKGROUND_TABLES = new Set(['webhookLeases'])

/** Every row of every table and every store key with its value: what a request could change. */
async function snapshot (store: Store, db: ReturnType<typeof inner>['sql']['db']) {
  const tables: Record<string, string[]> = {}
  for (const [name, table] of Object.entries(schema)) {
    if (!is(table, PgTable) || BACKGROUND_TABLES.has(name)) continue
    tables[name] = (await db.select().from(table)).map((row) => JSON.stringify(row)).sort()
  }
  const keys: Record<string, unknown> = {}
  for (const key of (await store.scan('*')).sort()) {
    if (VOLATILE.test(key)) continue
    for (const read of [() => store.get(key), () => store.hGetAll(key), async () => (await store.sMembers(key)).sort(), () => store.zRangeByScore(key, -Infinity, Infinity)]) {
      try {
        keys[key] = await read()
        break
      } catch (err) {
        if (!/WRONGTYPE/.test((err as Error).message)) throw err
      }
    }
  }
  return { tables, keys }
}

for (const mode of modes()) {
  t.test(`${mode}: every REST route answers arbitrary input with 2xx or 4xx {code, message}`, async (t) => {
    const { app } = await buildTestApp(t, { mode, env: { REST_RATE_LIMIT_MAX: '1000000', AUTH_RATE_LIMIT_MAX: '1000000' } })
    const { token } = await registerUser(app)
    const { store, sql } = inner(app)
    const credentials: Record<Credential, Record<string, string>> = {
      none: {},
      user: { authorization: `Bearer ${token}` },
      'admin key': { 'x-api-key': ADMIN_API_KEY },
      'wrong key': { 'x-api-key': `${ADMIN_API_KEY}x` },
      'garbage bearer': { authorization: 'Bearer not.a.jwt' }
    }
    const statuses = new Map<number, number>()
    const adminRefusals = new Map<string, number>()
    for (const route of ROUTES) {
      const [method, pattern] = route.split(' ') as ['GET' | 'POST' | 'DELETE', string]
      const admin = isAdminRoute(pattern)
      const before = await snapshot(store, sql.db)
      let succeeded = 0
      await fc.assert(fc.asyncProperty(body, param, param, query, fc.constantFrom(...CREDENTIALS), async (b, p1, p2, q, credential) => {
        let seen = 0
        const url = pattern.replace(/:[a-zA-Z]+/g, () => encodeURIComponent(seen++ === 0 ? p1 : p2))
        const headers: Record<string, string> = { ...credentials[credential] }
        let payload: string | undefined
        if (b !== undefined && method !== 'GET') {
          headers['content-type'] = 'application/json'
          payload = 'raw' in b ? b.raw : (JSON.stringify(b.json) ?? 'null')
        }
        const res = await app.inject({ method, url, headers, query: q, ...(payload === undefined ? {} : { payload }) })
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
        if (res.statusCode >= 500 && !(pattern === '/ready' && res.statusCode === 503)) return false
        if (res.statusCode < 400) succeeded++
        // `..`, `.` or an empty parameter makes a path that is no longer this route's.
        const routed = [p1, p2].slice(0, seen).every((p) => p !== '' && p !== '.' && p !== '..')
        if (admin && routed && credential !== 'admin key') {
          // The guard runs before validation: whatever the input, no admin credential → 401, a user's → 403.
          const expected = credential === 'user' ? [403, 'FORBIDDEN'] : [401, credential === 'garbage bearer' ? 'INVALID_TOKEN' : 'UNAUTHORIZED']
          const refusal = `${res.statusCode} ${res.json().code}`
          adminRefusals.set(refusal, (adminRefusals.get(refusal) ?? 0) + 1)
          if (refusal !== expected.join(' ')) return false
        }
        if (res.statusCode >= 400) {
          const json = res.json()
          return typeof json.code === 'string' && typeof json.message === 'string'
        }
        return res.statusCode < 400
      }), { numRuns: admin ? NUM_RUNS * 2 : NUM_RUNS })
      t.pass(`${route}: never a 500, every 4xx is {code, message}${admin ? ', refused without the admin key' : ''}`)
      // A refused request changes nothing; so does any GET.
      if (method === 'GET' || succeeded === 0) {
        t.same(await snapshot(store, sql.db), before, `${route}: no row and no store key changed (${succeeded} successes)`)
      } else {
        t.comment(`${route}: ${succeeded} requests succeeded, state may change`)
      }
    }
    t.ok((adminRefusals.get('401 UNAUTHORIZED') ?? 0) > 0 && (adminRefusals.get('403 FORBIDDEN') ?? 0) > 0, 'admin routes were tried without credentials and with a user token')
    t.comment(`admin refusals ${JSON.stringify(Object.fromEntries(adminRefusals))}`)
    t.equal((await app.inject('/health')).statusCode, 200, 'the server is up')
    t.comment(`statuses ${JSON.stringify(Object.fromEntries(statuses))}`)
  })
}
