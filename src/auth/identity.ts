import { AppError } from '../errors.js'

/** Who a token speaks for. Tokens may come from roomwire's login or from an embedding app. */
export interface Identity {
  id: string
  username: string
  displayName: string
  role: string
}

export interface TokenClaims {
  sub?: unknown
  name?: unknown
  displayName?: unknown
  username?: unknown
  role?: unknown
}

const str = (v: unknown): string | undefined => typeof v === 'string' && v.length > 0 ? v : undefined

export function identityFromClaims (claims: TokenClaims): Identity {
  const id = str(claims.sub)
  if (!id) throw new AppError('INVALID_TOKEN', 'Token has no subject', 401)
  const displayName = str(claims.name) ?? str(claims.displayName) ?? str(claims.username) ?? id
  return { id, username: str(claims.username) ?? displayName, displayName, role: str(claims.role) ?? 'user' }
}

/** The token of a socket handshake: `auth.token`, else `Authorization: Bearer`, else `?token=`. */
export function handshakeToken (handshake: {
  auth: Record<string, unknown>
  headers: Record<string, string | string[] | undefined>
  query: Record<string, unknown>
}): string | undefined {
  const fromAuth = str(handshake.auth?.token)
  if (fromAuth) return fromAuth.replace(/^Bearer\s+/i, '')
  const header = handshake.headers.authorization
  if (typeof header === 'string' && /^Bearer\s+/i.test(header)) return header.replace(/^Bearer\s+/i, '')
  return str(handshake.query?.token)
}

/**
 * Drops a verified `auth.token` from the handshake (set to undefined, so the object keeps its
 * shape): nothing reads it again, and a connection then holds no bearer token. A token sent as a
 * header or in the query stays where Node keeps the request.
 */
export function forgetToken (handshake: { auth: Record<string, unknown> }): void {
  if (typeof handshake.auth?.token === 'string') handshake.auth.token = undefined
}
