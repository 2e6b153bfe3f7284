import type { FastifyRequest } from 'fastify'

/**
 * What roomwire's logs leave out (CONTRACT §10): credentials in headers and bodies, query strings
 * (a token can travel in one), and SQL parameters (password hashes, message contents), which
 * drizzle puts in both the `params` and the `message` of a failed query.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'req.headers["set-cookie"]',
  'password', 'token', 'secret', 'passwordHash', '*.password', '*.token', '*.secret', '*.passwordHash', '*.resumeToken'
]

/** A driver error's fields that repeat SQL values (`detail`: "Key (username)=(alice) exists"). */
const VALUE_FIELDS = ['params', 'parameters', 'detail', 'where', 'internalQuery']

/** An error as it may be logged: its cause chain with every SQL value taken out. */
export function safeError (err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 5) return err
  const serialized: Record<string, unknown> = { ...err, type: err.constructor.name, message: err.message, stack: err.stack }
  const failed = /^Failed query: ([\s\S]*?)\nparams: /.exec(err.message)
  if (failed) serialized.message = `Failed query: ${failed[1]}`
  if (typeof serialized.stack === 'string' && failed) serialized.stack = serialized.stack.replace(/\nparams: [\s\S]*?(?=\n {4}at )/, '')
  for (const field of VALUE_FIELDS) delete serialized[field]
  if (err.cause !== undefined) serialized.cause = safeError(err.cause, depth + 1)
  return serialized
}

/** A request as logged: method, path without its query, and who asked. */
export function safeRequest (request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url.split('?')[0],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  }
}

/** Pino options of the standalone app (buildApp); a host app embedding roomwire can spread them into its own. */
export const logRedaction = {
  redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  serializers: { err: safeError, error: safeError, req: safeRequest }
}
