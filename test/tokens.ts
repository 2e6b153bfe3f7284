import { createHmac, generateKeyPairSync, createSign } from 'node:crypto'
import { JWT_SECRET } from './helper.js'

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)

/** Hand-made JWTs, so the refusals test what the server does with exactly these bytes. */
export function hs256 (payload: Record<string, unknown>, secret = JWT_SECRET): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`
}

export const claims = (extra: Record<string, unknown> = {}) => ({
  sub: 'user-1', name: 'Ada', username: 'ada', iat: now(), exp: now() + 600, ...extra
})

export const badTokens = () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const rsHead = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims())}`
  const rs = `${rsHead}.${createSign('RSA-SHA256').update(rsHead).sign(privateKey).toString('base64url')}`
  const { exp: _exp, ...noExp } = claims()
  return {
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`,
    'another secret': hs256(claims(), 'another-secret-that-is-long-enough-xyz'),
    expired: hs256(claims({ iat: now() - 7200, exp: now() - 3600 })),
    'no exp': hs256(noExp),
    'RS256 (not HS256)': rs,
    garbage: 'not.a.jwt'
  }
}
