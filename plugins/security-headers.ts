import fp from 'fastify-plugin'

/**
 * CONTRACT §10: the usual security headers on every reply of the API. A header a route set
 * itself wins (the demo page sends its own CSP, plugins/demo.ts); no CSP is added here, so
 * Swagger UI at /docs keeps working.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer'
}

export default fp(async (app) => {
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      if (!reply.hasHeader(name)) reply.header(name, value)
    }
    return payload
  })
}, { name: 'security-headers' })
