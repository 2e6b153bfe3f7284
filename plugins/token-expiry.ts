import fp from 'fastify-plugin'
import { namespacesOf } from '../src/socket/workarounds.js'

export interface TokenExpiryOptions {
  /** How often connected sockets are checked for an expired token (ms). */
  sweepMs?: number
}

const wire = { code: 'INVALID_TOKEN', message: 'Token expired' }

/**
 * A socket authenticated by a JWT lives no longer than its token: one timer walks the sockets
 * of every namespace and disconnects those whose `tokenExp` (seconds) has passed, after the
 * namespace's error event with INVALID_TOKEN.
 */
export default fp<TokenExpiryOptions>(async (app, opts) => {
  const io = app.io
  const sweepMs = opts.sweepMs ?? 1_000
  const sweep = () => {
    const nowSeconds = Date.now() / 1000
    for (const nsp of namespacesOf(io)) {
      const errorEvent = nsp.name === '/sync' ? 'room:error' : 'error'
      for (const socket of nsp.sockets.values()) {
        const exp = socket.data?.tokenExp
        if (typeof exp !== 'number' || exp > nowSeconds) continue
        // Straight to this socket on this instance: through the adapter it could arrive after the disconnect.
        nsp.local.to(socket.id).emit(errorEvent, wire)
        socket.disconnect(true)
      }
    }
  }
  const timer = setInterval(sweep, sweepMs)
  timer.unref()
  app.addHook('onClose', async () => { clearInterval(timer) })
}, { name: 'token-expiry', dependencies: ['socket-io'] })
