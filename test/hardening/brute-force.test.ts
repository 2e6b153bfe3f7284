import t from 'tap'
import { buildTestApp, modes, servicesSkipReason } from '../helper.js'
import { createRoom, join, request, syncClient } from '../sync/fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

for (const mode of modes()) {
  t.test(`${mode}: login attempts are limited per IP`, async (t) => {
    const { app } = await buildTestApp(t, { mode, env: { AUTH_RATE_LIMIT_MAX: '5' } })
    const register = await app.inject({
      method: 'POST', url: '/api/auth/register', remoteAddress: '127.0.0.9', payload: { username: 'victim', password: 'correct horse battery' }
    })
    t.equal(register.statusCode, 201)
    const login = (password: string, remoteAddress: string, headers: Record<string, string> = {}) => app.inject({
      method: 'POST', url: '/api/auth/login', remoteAddress, headers, payload: { username: 'victim', password }
    })
    for (let i = 0; i < 5; i++) {
      const res = await login(`guess-${i}`, '127.0.0.1', { 'x-forwarded-for': `10.0.0.${i}` })
      t.equal(res.statusCode, 401, `guess ${i} is refused`)
      t.equal(res.json().code, 'INVALID_CREDENTIALS')
    }
    const limited = await login('correct horse battery', '127.0.0.1', { 'x-forwarded-for': '10.0.0.99' })
    t.equal(limited.statusCode, 429, 'then the IP is limited, even with the right password and a spoofed X-Forwarded-For')
    t.match(limited.json(), { code: 'RATE_LIMITED', message: String })
    const elsewhere = await login('correct horse battery', '127.0.0.2')
    t.equal(elsewhere.statusCode, 200, 'another IP is not limited')
  })

  t.test(`${mode}: sync-room password attempts are limited per IP and room`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { SYNC_PASSWORD_ATTEMPTS: '3' } })
    const register = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'host', password: 'correct horse battery' } })
    const { token } = register.json()
    const locked = await createRoom(app, token, { password: 'sesame' })
    const other = await createRoom(app, token, { password: 'sesame' })
    const guest = await syncClient(t, url)
    const code = async (payload: Record<string, unknown>) => (await request(guest, 'room:join', payload)).error?.code
    for (let i = 0; i < 3; i++) {
      t.equal(await code({ roomCode: locked.code, guestName: 'Mallory', password: `guess-${i}` }), 'INVALID_PASSWORD')
    }
    t.equal(await code({ roomCode: locked.code, guestName: 'Mallory', password: 'sesame' }), 'RATE_LIMITED',
      'after SYNC_PASSWORD_ATTEMPTS failures, even the right password is refused')
    t.equal(await code({ roomCode: other.code, guestName: 'Mallory', password: 'guess' }), 'INVALID_PASSWORD', 'another room has its own count')
    const elsewhere = await syncClient(t, url, { localAddress: '127.0.0.2' })
    t.equal((await join(elsewhere, { roomCode: locked.code, guestName: 'Eve', password: 'sesame' })).room.hasPassword, true, 'another IP is not limited')
  })
}
