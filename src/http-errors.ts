import type { FastifyError, FastifyInstance } from 'fastify'
import { isAppError } from './errors.js'
import { safeError } from './log.js'

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08000', '08001', '08003', '08006'])
const UNAVAILABLE_TEXT = /Command timed out|Connection terminated|timeout exceeded when trying to connect|Connection is closed|Client has encountered a connection error/

/** A backing service (PostgreSQL, Redis) that cannot be reached: "try later", not "you did wrong".
 * drizzle wraps driver errors, so the whole `cause` chain is looked at. */
export function isUnavailable (err: unknown): boolean {
  for (let e = err as { code?: string, message?: string, cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (UNAVAILABLE_CODES.has(e.code ?? '') || UNAVAILABLE_TEXT.test(String(e.message))) return true
    if (e instanceof AggregateError && e.errors.some(isUnavailable)) return true
  }
  return false
}

/** One error shape `{ code, message }` for every REST reply that is not a success. */
export function installErrorHandling (app: FastifyInstance, options: { notFound: boolean }): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isAppError(err)) {
      return reply.code(err.statusCode).send({ code: err.code, message: err.message })
    }
    if (err.validation) {
      return reply.code(400).send({ code: 'INVALID_REQUEST', message: err.message })
    }
    if (err.statusCode === 429) {
      return reply.code(429).send({ code: 'RATE_LIMITED', message: err.message })
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ code: 'INVALID_REQUEST', message: err.message })
    }
    if (isUnavailable(err)) {
      request.log.warn({ err: safeError(err) }, 'dependency unavailable')
      return reply.code(503).send({ code: 'SERVICE_UNAVAILABLE', message: 'A backing service is unavailable; try again shortly' })
    }
    request.log.error({ err: safeError(err) }, 'unhandled error')
    return reply.code(500).send({ code: 'INTERNAL_ERROR', message: 'Internal error' })
  })
  if (options.notFound) {
    app.setNotFoundHandler((request, reply) => {
      reply.code(404).send({ code: 'NOT_FOUND', message: `Route ${request.method} ${request.url.split('?')[0]} not found` })
    })
  }
}
