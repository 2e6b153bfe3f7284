import fp from 'fastify-plugin'
import type { Namespace, Socket } from 'socket.io'
import { localSocketsOf } from '../src/socket/workarounds.js'

export interface HealthPingOptions {
  /** Idle time before a `ping` (PUBLIC_PING_IDLE_MS). */
  idleMs: number
  /** Unanswered pings in a row before CONNECTION_TIMEOUT (PUBLIC_PING_MAX_MISSED). */
  maxMissed: number
  /** The namespace's error event. */
  errorEvent?: string
  /** How often the one sweep runs; default idleMs. */
  sweepMs?: number
}

export interface HealthPing {
  /** Stops the sweep (seed 000's `stopHealthChecks`). */
  stop (): void
}

interface PingState { lastActivity: number, outstanding: boolean, missed: number }

declare module 'fastify' {
  interface FastifyInstance {
    /** Seed 000's idle ping/pong for a namespace (or a parent namespace of dynamic ones). */
    healthPing (nsp: Namespace, options: HealthPingOptions): HealthPing
  }
}

const STATE = Symbol('healthPing')
type Tracked = Socket & { [STATE]?: PingState }

/**
 * Any client event counts as activity. One timer per namespace walks its local sockets: an idle
 * socket gets `ping`; a ping still unanswered at the next sweep counts as missed; `maxMissed`
 * in a row ends the connection with CONNECTION_TIMEOUT.
 */
export default fp(async (app) => {
  const running = new Set<NodeJS.Timeout>()

  app.decorate('healthPing', (nsp: Namespace, options: HealthPingOptions): HealthPing => {
    const { idleMs, maxMissed, errorEvent = 'error' } = options
    nsp.use((socket: Tracked, next) => {
      const state: PingState = { lastActivity: Date.now(), outstanding: false, missed: 0 }
      socket[STATE] = state
      socket.onAny(() => {
        state.lastActivity = Date.now()
        state.outstanding = false
        state.missed = 0
      })
      next()
    })
    const sweep = () => {
      const now = Date.now()
      // A parent namespace (dynamic `/public-room/:id`) holds its sockets in its children.
      for (const socket of localSocketsOf(nsp) as Tracked[]) {
        const state = socket[STATE]
        if (!state || now - state.lastActivity < idleMs) continue
        if (state.outstanding) state.missed++
        if (state.missed >= maxMissed) {
          // Written at once: a plain emit goes through the adapter (connection state recovery),
          // which with Redis would deliver it after the disconnect below.
          socket.nsp.local.to(socket.id).emit(errorEvent, { code: 'CONNECTION_TIMEOUT', message: `No pong after ${maxMissed} pings` })
          // This namespace only: the client's other namespaces may share the connection.
          socket.disconnect()
          continue
        }
        state.outstanding = true
        socket.emit('ping')
      }
    }
    const timer = setInterval(sweep, options.sweepMs ?? idleMs)
    timer.unref()
    running.add(timer)
    return {
      stop () {
        clearInterval(timer)
        running.delete(timer)
      }
    }
  })

  app.addHook('onClose', async () => {
    for (const timer of running) clearInterval(timer)
    running.clear()
  })
}, { name: 'health-ping', dependencies: ['socket-io'] })
