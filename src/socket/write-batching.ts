/**
 * One write per WebSocket connection per tick (issue 23). engine.io hands every packet to its
 * transport as soon as the previous write completed, and ws writes each as a frame of its own: a
 * `join_room` answered with `joined_room`, `users_online` and its ack cost three `writev` system
 * calls, as did a message's echo to its sender and the sender's ack. Here a WebSocket connection's
 * flush waits for the end of the current tick (process.nextTick: after the synchronous code and
 * the promise continuations that run with it), and what it then holds is written with the TCP
 * socket corked, so the frames go out in one `writev`. Order, packet callbacks and `drain` are
 * engine.io's own; only when the flush runs changes, never which packets or in what order. Polling
 * connections flush as before (a poll's response is one write already).
 *
 * It relies on engine.io 6 internals (re-check on upgrade): `Socket.prototype.flush` (called by
 * `sendPacket`, on the transport's `ready` and after an upgrade), `writeBuffer`, `server`,
 * `transport.name`, and ws's `WebSocket#_socket` (the net.Socket under the transport).
 */
import type { Server } from 'socket.io'

const IMMEDIATE = Symbol('roomwire.immediateFlush')

/** The parts of an engine.io connection this reads. */
interface EngineConnection {
  server: unknown
  writeBuffer: unknown[]
  transport: { name: string, socket?: { _socket?: { cork: () => void, uncork: () => void } } }
  flush: () => void
  /** The prototype's own flush, kept on the prototype it was taken from. */
  [IMMEDIATE]?: () => void
}

// The engine.io servers whose WebSocket connections batch: the prototype is patched once per
// process, and connections of other engine.io servers in it (a test's, a library's) keep the
// immediate flush.
const batching = new WeakSet<object>()
const pending = new Set<EngineConnection>()
let scheduled = false

function writeOut (conn: EngineConnection): void {
  // One frame needs no cork: ws corks around a frame's header and payload itself.
  const tcp = conn.writeBuffer.length > 1 ? conn.transport.socket?._socket : undefined
  tcp?.cork()
  try {
    conn[IMMEDIATE]!()
  } finally {
    tcp?.uncork()
  }
}

function flushPending (): void {
  scheduled = false
  // A Set visits what is added while it is walked: a flush that leads to another packet for a
  // connection not yet written out (a `drain` listener) is written in this same pass.
  for (const conn of pending) {
    pending.delete(conn)
    writeOut(conn)
  }
}

function deferredFlush (this: EngineConnection): void {
  if (!batching.has(this.server as object) || this.transport.name !== 'websocket') {
    this[IMMEDIATE]!()
    return
  }
  pending.add(this)
  if (!scheduled) {
    scheduled = true
    process.nextTick(flushPending)
  }
}

/** `io`'s WebSocket connections write what one tick gives them at once. */
export function batchWrites (io: Server): void {
  batching.add(io.engine)
  io.engine.once('connection', (conn: EngineConnection) => {
    const proto = Object.getPrototypeOf(conn) as EngineConnection
    if (proto[IMMEDIATE] !== undefined) return
    proto[IMMEDIATE] = proto.flush
    proto.flush = deferredFlush
  })
}
