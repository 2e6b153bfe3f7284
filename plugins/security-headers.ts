import fp from 'fastify-plugin'
import type { onSendHookHandler } from 'fastify'

/**
 * CONTRACT §10: the usual security headers on every reply of the API. A header a route set
 * itself wins (the demo page sends its own CSP, plugins/demo.ts); no CSP is added here, so
 * Swagger UI at /docs keeps working.
 */
const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer']
]

// A callback hook, not an async one: it runs on every reply (/health included), and an async
// hook costs Fastify a promise and a resolution per request for nothing awaited (issue 23).
const addSecurityHeaders: onSendHookHandler = (_request, reply, payload, done) => {
  for (const [name, value] of SECURITY_HEADERS) {
    if (!reply.hasHeader(name)) reply.header(name, value)
  }
  done(null, payload)
}

export default fp(async (app) => {
  app.addHook('onSend', addSecurityHeaders)
}, { name: 'security-headers' })
