import t from 'tap'
import type { Socket } from 'socket.io'
import { connect, connected, once } from '../helper.js'
import { bareSocketApp } from './fixtures.js'

type Test = Pick<typeof t, 'teardown'>

interface CountedSocket { _write: (...args: unknown[]) => void, _writev: (...args: unknown[]) => void }

/** The server side of a new connection to `/batch`, and a count of its TCP socket's writes. */
async function batchConnection (t: Test, transports = ['websocket']) {
  const { app, url } = await bareSocketApp(t, 'embedded')
  const nsp = app.io.of('/batch')
  const accepted = new Promise<Socket>((resolve) => nsp.once('connection', resolve))
  const client = connect(t, `${url}/batch`, { transports })
  await connected(client)
  const server = await accepted
  const counter = { writes: 0 }
  const tcp = (server.conn.transport as unknown as { socket?: { _socket?: CountedSocket } }).socket?._socket
  if (tcp) {
    // A Writable calls _write for one chunk and _writev for several: one system call each.
    const write = tcp._write.bind(tcp)
    const writev = tcp._writev.bind(tcp)
    tcp._write = (...args) => { counter.writes++; write(...args) }
    tcp._writev = (...args) => { counter.writes++; writev(...args) }
  }
  return { client, server, counter }
}

t.test('the packets one WebSocket connection is sent in one turn leave in one write, in order', async (t) => {
  const { client, server, counter } = await batchConnection(t)
  const got: number[] = []
  let firstThree!: () => void
  const three = new Promise<void>((resolve) => { firstThree = resolve })
  const all = new Promise<void>((resolve) => {
    client.on('n', (n: number) => {
      got.push(n)
      if (got.length === 3) firstThree()
      if (got.length === 6) resolve()
    })
  })
  for (let i = 0; i < 3; i++) server.emit('n', i)
  // Received, so written: nothing else is sent to this socket meanwhile.
  await three
  t.equal(counter.writes, 1, 'three packets of one turn: one write')
  setTimeout(() => { for (let i = 3; i < 6; i++) server.emit('n', i) }, 0)
  await all
  t.same(got, [0, 1, 2, 3, 4, 5], 'every packet arrived, in the order it was sent')
  t.equal(counter.writes, 2, 'a later turn: a write of its own')
})

t.test('an acknowledgement and events to the same socket in one turn leave together', async (t) => {
  const { client, server, counter } = await batchConnection(t)
  server.on('ask', (ack: (reply: unknown) => void) => {
    server.emit('first')
    server.emit('second')
    ack({ ok: true })
  })
  const order: string[] = []
  client.on('first', () => order.push('first'))
  client.on('second', () => order.push('second'))
  const reply = await client.emitWithAck('ask')
  order.push('ack')
  t.same(reply, { ok: true })
  t.same(order, ['first', 'second', 'ack'])
  t.equal(counter.writes, 1)
})

t.test('what was sent just before a disconnect still arrives', async (t) => {
  const { client, server } = await batchConnection(t)
  const bye = once(client, 'bye')
  const gone = once(client, 'disconnect')
  server.emit('bye', 'see you')
  server.disconnect(true)
  t.equal(await bye, 'see you')
  t.equal(await gone, 'io server disconnect')
})

t.test('a connection that starts on long polling and upgrades gets every packet', async (t) => {
  const { client, server } = await batchConnection(t, ['polling', 'websocket'])
  await new Promise<void>((resolve) => {
    if (server.conn.transport.name === 'websocket') resolve()
    else server.conn.once('upgrade', () => resolve())
  })
  const got: number[] = []
  const all = new Promise<void>((resolve) => {
    client.on('n', (n: number) => { got.push(n); if (got.length === 4) resolve() })
  })
  for (let i = 0; i < 4; i++) server.emit('n', i)
  await all
  t.same(got, [0, 1, 2, 3])
})
