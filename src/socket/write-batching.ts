/**
 * The frames written to one WebSocket connection in one turn of the event loop leave in one
 * system call (issue 23). engine.io hands each packet to `ws` on its own and `ws` writes each
 * frame to the TCP socket on its own: a `join_room` answers with `joined_room`, the member list
 * and the ack, three writes (a `writev` costs 50–65 µs on the bench machine, more than the
 * JavaScript of the join). Here a connection's first send of a turn corks its TCP socket, and a
 * `setImmediate` (after the turn's I/O callbacks) uncorks every socket corked meanwhile. While
 * corked, the transport stays writable, so engine.io hands over the turn's later packets at once
 * instead of queueing them for the next write. The frames and their order are unchanged.
 *
 * Applied to the WebSocket transport of the engine.io that socket.io loads, so to every
 * Socket.IO server of the process.
 */
import { createRequire } from 'node:module'

/** The part of engine.io 6's WebSocket transport this wraps. */
interface WebSocketTransport {
  socket?: { _socket?: TcpSocket | null }
  writable: boolean
  send (packets: unknown[]): void
}

interface TcpSocket {
  writableCorked: number
  destroyed: boolean
  cork (): void
  uncork (): void
}

const PATCHED = Symbol.for('roomwire.writeBatching')

type TransportClass = { prototype: WebSocketTransport & { [PATCHED]?: true } }

function webSocketTransport (): TransportClass {
  const fromSocketIo = createRequire(createRequire(import.meta.url).resolve('socket.io'))
  return (fromSocketIo('engine.io') as { transports: { websocket: TransportClass } }).transports.websocket
}

const corked: TcpSocket[] = []
let scheduled = false
/** While the write callbacks of a batch run: what engine.io flushes then is written at once. */
let writing = false

function written (): void { writing = false }

function uncorkAll (): void {
  scheduled = false
  writing = true
  for (let i = 0; i < corked.length; i++) corked[i].uncork()
  corked.length = 0
  // Queued after the writes' own callbacks (engine.io's `drain` and `ready`).
  process.nextTick(written)
}

/** Batches the writes of every engine.io WebSocket connection of the process (once). */
export function batchWebSocketWrites (): void {
  const proto = webSocketTransport().prototype
  if (proto[PATCHED] === true) return
  const send = proto.send
  proto.send = function batchedSend (this: WebSocketTransport, packets: unknown[]): void {
    const tcp = this.socket?._socket
    if (tcp === undefined || tcp === null || tcp.destroyed) {
      send.call(this, packets)
      return
    }
    // `ws` corks only within one frame's write: corked here means corked by this turn's batch.
    if (tcp.writableCorked === 0) {
      if (writing) {
        tcp.cork()
        send.call(this, packets)
        tcp.uncork()
        return
      }
      tcp.cork()
      corked.push(tcp)
      if (!scheduled) {
        scheduled = true
        setImmediate(uncorkAll)
      }
    }
    send.call(this, packets)
    this.writable = true
  }
  proto[PATCHED] = true
}
