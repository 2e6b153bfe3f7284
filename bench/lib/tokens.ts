import { createHmac, randomBytes } from 'node:crypto'

/** Secrets of one run, passed to roomwire in env; tokens are signed with the same one. */
export const JWT_SECRET = `bench-${randomBytes(16).toString('hex')}`
export const IP_HASH_SECRET = `bench-ip-${randomBytes(16).toString('hex')}`
export const ADMIN_API_KEY = `bench-admin-${randomBytes(16).toString('hex')}`

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

/** An HS256 JWT for a chat user (CONTRACT §3: `sub` and a display name claim, `exp`). */
export function chatToken (userId: string, ttlSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000)
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: userId, username: userId, name: userId, iat: now, exp: now + ttlSeconds })}`
  return `${head}.${createHmac('sha256', JWT_SECRET).update(head).digest('base64url')}`
}
