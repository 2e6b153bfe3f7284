import t from 'tap'
import fc from 'fast-check'
import { buildTestApp, modes, registerUser, servicesSkipReason } from '../helper.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

const NUM_RUNS = 30

/** Every REST route of routes/*.ts (admin routes excluded: routes/admin.ts is being written elsewhere). */
const ROUTES = [
  'POST /api/auth/register', 'POST /api/auth/login', 'GET /api/auth/me',
  'POST /api/channels', 'GET /api/channels', 'GET /api/channels/:id', 'GET /api/channels/:id/messages',
  'POST /api/groups', 'GET /api/groups', 'GET /api/groups/:id', 'DELETE /api/groups/:id',
  'POST /api/groups/:id/members', 'DELETE /api/groups/:id/members/:userId', 'GET /api/groups/:id/messages',
  'GET /api/groups/:id/presence',
  'GET /health', 'GET /ready',
  'POST /api/public/rooms', 'GET /api/public/rooms', 'GET /api/public/rooms/:roomId', 'POST /api/public/users',
  'POST /api/public/rooms/:roomId/join', 'POST /api/public/rooms/:roomId/leave',
  'POST /api/sync/rooms', 'GET /api/sync/rooms/:code', 'DELETE /api/sync/rooms/:code'
] as const

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
const query = fc.dictionary(fc.constantFrom('limit', 'before', 'after', 'cursor', 'type', 'page', 'x'), fc.string({ maxLength: 50 }), { maxKeys: 4 })

for (const mode of modes()) {
  t.test(`${mode}: every REST route answers arbitrary input with 2xx or 4xx {code, message}`, async (t) => {
    const { app } = await buildTestApp(t, { mode, env: { REST_RATE_LIMIT_MAX: '1000000', AUTH_RATE_LIMIT_MAX: '1000000' } })
    const { token } = await registerUser(app)
    const statuses = new Map<number, number>()
    for (const route of ROUTES) {
      const [method, pattern] = route.split(' ') as ['GET' | 'POST' | 'DELETE', string]
      await fc.assert(fc.asyncProperty(body, param, param, query, fc.boolean(), async (b, p1, p2, q, authed) => {
        let seen = 0
        const url = pattern.replace(/:[a-zA-Z]+/g, () => encodeURIComponent(seen++ === 0 ? p1 : p2))
        const headers: Record<string, string> = authed ? { authorization: `Bearer ${token}` } : {}
        let payload: string | undefined
        if (b !== undefined && method !== 'GET') {
          headers['content-type'] = 'application/json'
          payload = 'raw' in b ? b.raw : (JSON.stringify(b.json) ?? 'null')
        }
        const res = await app.inject({ method, url, headers, query: q, ...(payload === undefined ? {} : { payload }) })
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
        if (res.statusCode >= 500 && !(pattern === '/ready' && res.statusCode === 503)) return false
        if (res.statusCode >= 400) {
          const json = res.json()
          return typeof json.code === 'string' && typeof json.message === 'string'
        }
        return res.statusCode < 400
      }), { numRuns: NUM_RUNS })
      t.pass(`${route}: never a 500, every 4xx is {code, message}`)
    }
    t.equal((await app.inject('/health')).statusCode, 200, 'the server is up')
    t.comment(`statuses ${JSON.stringify(Object.fromEntries(statuses))}`)
  })
}
