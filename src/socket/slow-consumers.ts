/**
 * Slow consumers (CONTRACT §10): the bytes waiting for one connection, in engine.io's write buffer
 * and below it in the WebSocket's (ws `bufferedAmount`), are capped; a connection over the cap is
 * dropped at once, its buffers released. Counted on each outgoing packet, without a timer.
 */
import type { Server } from 'socket.io'
import { observerOf } from './event-table.js'

/** The parts of an engine.io connection this reads (engine.io 6; re-check on upgrade). */
interface EngineConnection {
  writeBuffer: Array<{ data?: unknown }>
  transport: { name: string, socket?: { bufferedAmount?: number, terminate?: () => void } }
  on (event: 'packetCreate', listener: (this: EngineConnection, packet: { data?: unknown }) => void): void
  on (event: 'flush', listener: (this: EngineConnection) => void): void
  close (discard?: boolean): void
}

/** Bytes handed to engine.io since its last flush, per connection. */
const waiting = new WeakMap<EngineConnection, number>()

function sizeOf (data: unknown): number {
  if (typeof data === 'string') return data.length
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength
  return 0
}

/** Every connection of `io` with more than `maxBytes` waiting for it is dropped (a slow consumer). */
export function dropSlowConsumers (io: Server, maxBytes: number, onDropped?: (conn: unknown) => void): void {
  // Shared listeners (EventEmitter calls them with the connection as `this`): no closure per connection.
  function onPacket (this: EngineConnection, packet: { data?: unknown }): void {
    const pending = (waiting.get(this) ?? 0) + sizeOf(packet.data)
    waiting.set(this, pending)
    if (pending + (this.transport.socket?.bufferedAmount ?? 0) <= maxBytes) return
    waiting.delete(this)
    observerOf(io)?.slowConsumer?.()
    onDropped?.(this)
    // Discard what waits, and for a WebSocket skip the closing handshake a non-reader never answers.
    this.close(true)
    this.transport.socket?.terminate?.()
  }
  function onFlush (this: EngineConnection): void {
    // Handed to the transport: from now on it is counted in the WebSocket's bufferedAmount.
    // Deleted rather than set to 0 (the same count): an idle connection keeps no entry.
    waiting.delete(this)
  }
  io.engine.on('connection', (conn: EngineConnection) => {
    conn.on('packetCreate', onPacket)
    conn.on('flush', onFlush)
  })
}
