import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server, type Socket as ServerSocket } from 'socket.io'
import { io as ioClient, type Socket } from 'socket.io-client'
import { batchWrites } from '../../src/socket/write-batching.js'

interface Tcp { _write: (...args: unknown[]) => unknown, _writev?: (...args: unknown[]) => unknown }

/**
 * A Socket.IO server (batching or not) whose connections count the writes their TCP socket gets:
 * `_write` (one chunk) and `_writev` (several at once) are what each system call is made from.
 */
async function server (test: Pick<typeof t, 'teardown'>, batching: boolean) {
  const http = createServer()
  const io = new Server(http)
  if (batching) batchWrites(io)
  const writes = new Map<string, number>()
  io.on('connection', (socket) => {
    const tcp = (socket.conn.transport as unknown as { socket?: { _socket?: Tcp } }).socket?._socket
    if (!tcp) return
    writes.set(socket.id, 0)
    const count = <F extends (...args: unknown[]) => unknown> (fn: F) => function (this: Tcp, ...args: unknown[]) {
      writes.set(socket.id, writes.get(socket.id)! + 1)
      return fn.apply(this, args)
    }
    tcp._write = count(tcp._write)
    if (tcp._writev) tcp._writev = count(tcp._writev)
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  test.teardown(() => io.close())
  return { io, url, writes }
}

function client (test: Pick<typeof t, 'teardown'>, url: string, transports: string[] = ['websocket']): Socket {
  const socket = ioClient(url, { transports, forceNew: true, reconnection: false })
  test.teardown(() => { socket.disconnect() })
  return socket
}

async function serverSocket (io: Server, socket: Socket): Promise<ServerSocket> {
  if (!socket.connected) await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  return io.of('/').sockets.get(socket.id!)!
}

/** The events named `names` the client got, in order, once `count` have come. */
function received (socket: Socket, count: number): Promise<Array<[string, unknown]>> {
  const got: Array<[string, unknown]> = []
  return new Promise((resolve) => {
    socket.onAny((event: string, payload: unknown) => {
      got.push([event, payload])
      if (got.length === count) resolve(got)
    })
  })
}

const THREE: Array<[string, unknown]> = [['a', 1], ['b', 2], ['c', 3]]

t.test('what one tick gives a WebSocket connection is written to its TCP socket at once', async (t) => {
  for (const batching of [true, false]) {
    const { io, url, writes } = await server(t, batching)
    const socket = client(t, url)
    const peer = await serverSocket(io, socket)
    const before = writes.get(peer.id)!
    const got = received(socket, 3)
    for (const [event, payload] of THREE) peer.emit(event, payload)
    t.same(await got, THREE, `${batching ? 'batching' : 'not batching'}: every packet, in order`)
    t.equal(writes.get(peer.id)! - before, batching ? 1 : 3, batching ? 'one write for three packets' : 'without it, one write per packet')
  }
})

t.test('packets of separate ticks, an ack and a disconnect right after an emit all arrive as before', async (t) => {
  const { io, url } = await server(t, true)
  const socket = client(t, url)
  const peer = await serverSocket(io, socket)
  // Separate ticks: each flushed on its own.
  const got = received(socket, 3)
  for (const [event, payload] of THREE) {
    peer.emit(event, payload)
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.same(await got, THREE, 'one packet per tick: all of them, in order')

  // An ack answered in the same tick as an event to the asker: both arrive, the event first.
  peer.on('ask', (n: number, ack: (reply: number) => void) => {
    peer.emit('before-ack', n)
    ack(n + 1)
  })
  const order: string[] = []
  socket.once('before-ack', () => order.push('event'))
  const reply = await socket.emitWithAck('ask', 41)
  order.push('ack')
  t.equal(reply, 42)
  t.same(order, ['event', 'ack'], 'the event written before the ack arrives before it')

  // An emit then a disconnect in the same tick: the event is not lost to the close.
  const last = new Promise((resolve) => socket.once('last', resolve))
  const reason = new Promise((resolve) => socket.once('disconnect', resolve))
  peer.emit('last', 'bye')
  peer.disconnect(true)
  t.equal(await last, 'bye', 'the event before the disconnect arrives')
  t.equal(await reason, 'io server disconnect')
})

t.test('a polling connection flushes as before', async (t) => {
  const { io, url } = await server(t, true)
  const socket = client(t, url, ['polling'])
  const peer = await serverSocket(io, socket)
  t.equal(peer.conn.transport.name, 'polling')
  const got = received(socket, 3)
  for (const [event, payload] of THREE) peer.emit(event, payload)
  t.same(await got, THREE)
})
