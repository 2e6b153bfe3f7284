import t from 'tap'
import { buildTestApp, modes } from '../helper.js'

// The REST limit (REST_RATE_LIMIT_MAX per IP per minute) covers every route but /health: a
// liveness probe does no work, and a balancer probing from one address must not see the app as
// down. /ready pings SQL and the store, so it keeps the limit.
for (const mode of modes()) {
  t.test(`${mode}: /health is not rate-limited, /ready and the API are`, async (t) => {
    const { app } = await buildTestApp(t, { mode, env: { REST_RATE_LIMIT_MAX: '3' } })

    for (let i = 0; i < 6; i++) {
      const health = await app.inject('/health')
      t.equal(health.statusCode, 200, `/health #${i + 1} answers`)
      t.notOk(health.headers['x-ratelimit-limit'], '/health carries no rate-limit headers')
    }

    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await app.inject('/ready')).statusCode)
    t.same(statuses, [200, 200, 200, 429], '/ready: the fourth request in the window is refused')
    const limited = await app.inject('/api/public/rooms')
    t.equal(limited.statusCode, 429, 'the API shares the per-IP budget')
    t.match(limited.json(), { code: 'RATE_LIMITED', message: /Rate limit exceeded/ })
  })
}
