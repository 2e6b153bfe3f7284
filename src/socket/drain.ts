/**
 * The drain of a stopping instance (CONTRACT §11): no new connection is accepted, then every
 * connection's transport is closed (not a server disconnect, which socket.io-client takes as
 * final), spread over `overMs` so that the instances left take the reconnects in turn. A closed
 * transport is a recoverable disconnect: Socket.IO keeps the session (in Redis, for every
 * instance) and the client, reconnecting elsewhere, gets `recovered === true` and what it missed.
 */
import type { Server as HttpServer } from 'node:http'
import type { Server } from 'socket.io'

interface EngineConnection { readyState: string, close (discard?: boolean): void, once (event: 'close', listener: () => void): void }

// At most this many closing steps: a connection's close costs little, a timer per one would not.
const MAX_STEPS = 100
// A connection still open this long after its close (a client that does not read) is cut.
const FORCE_AFTER_MS = 5_000

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Stops accepting on `http`, then closes `io`'s connections over `overMs`; resolves once all are closed. */
export async function drainConnections (io: Server, http: HttpServer, overMs: number): Promise<void> {
  // Refuses new TCP connections; Fastify's own close later finds the server closed and goes on.
  http.close()
  // engine.io keeps its connections in `clients` (protected in its types: re-check on upgrade).
  const connections = Object.values((io.engine as unknown as { clients: Record<string, EngineConnection> }).clients)
  if (connections.length === 0) return
  const closed = connections.map((conn) => new Promise<void>((resolve) => { conn.once('close', resolve) }))
  const steps = Math.max(1, Math.min(MAX_STEPS, connections.length, Math.floor(overMs / 10)))
  const perStep = Math.ceil(connections.length / steps)
  const stepMs = overMs / steps
  for (let step = 0; step < steps; step++) {
    // engine.io's close() writes what waits, then closes the transport: the client sees `transport close`.
    for (const conn of connections.slice(step * perStep, (step + 1) * perStep)) conn.close()
    if (step < steps - 1) await delay(stepMs)
  }
  await Promise.race([Promise.all(closed), delay(FORCE_AFTER_MS)])
  for (const conn of connections) if (conn.readyState !== 'closed') conn.close(true)
  await Promise.all(closed)
}
