import t from 'tap'
import { randomUUID } from 'node:crypto'
import { createServer, connect as netConnect, type Socket as NetSocket } from 'node:net'
import { once as onceEvent } from 'node:events'
import { io as ioClient, type Socket } from 'socket.io-client'
import { freshPostgresUrl, once, connected, JWT_SECRET, IP_HASH_SECRET } from '../helper.js'
import { freePort, startInstance } from './fixtures/processes.js'
import { redisModes } from './fixtures/redis-modes.js'
import { hs256, claims } from '../tokens.js'

/**
 * CONTRACT §11, the drain: SIGTERM closes the sockets' transports (not a server disconnect), so a
 * client behind a balancer reconnects by itself to the other instance and recovers its session,
 * missing nothing and getting nothing twice (the Redis Streams adapter carries recovery across),
 * on single Redis and on a Redis Cluster (CONTRACT §12).
 */
// Once per Redis mode: more than the .taprc budget of 180 s for one file.
t.setTimeout(360_000)
for (const mode of redisModes()) {
  if (mode.skip) {
    t.skip(`${mode.name}: ${mode.skip}`, () => {})
    continue
  }
  const token = (sub: string) => hs256(claims({ sub, name: sub, username: sub, exp: Math.floor(Date.now() / 1000) + 3600 }))

  /** A round-robin TCP balancer; an upstream that refuses is skipped, as a balancer's health check would. */
  async function roundRobin (test: { teardown (fn: () => unknown): void }, ports: number[]) {
    const port = await freePort()
    const sockets = new Set<NetSocket>()
    let next = 0
    const server = createServer((client) => {
      client.pause()
      sockets.add(client)
      const attempt = (tries: number) => {
        const upstream = netConnect(ports[next++ % ports.length], '127.0.0.1')
        upstream.once('connect', () => {
          sockets.add(upstream)
          client.pipe(upstream); upstream.pipe(client)
          client.resume()
          const drop = () => { client.destroy(); upstream.destroy() }
          client.on('error', drop); upstream.on('error', drop)
          client.on('close', drop); upstream.on('close', drop)
        })
        upstream.once('error', () => { if (tries > 1) attempt(tries - 1); else client.destroy() })
      }
      attempt(ports.length)
    })
    server.listen(port, '127.0.0.1')
    await onceEvent(server, 'listening')
    test.teardown(async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    })
    return `http://127.0.0.1:${port}`
  }

  t.test(`${mode.name === 'redis' ? 'single Redis' : 'Redis Cluster'}: SIGTERM drains: the client reconnects to the other instance by itself and recovers, exactly once`, async (t) => {
    const env = {
      DATABASE_URL: await freshPostgresUrl(),
      ...await mode.env(),
      JWT_SECRET,
      IP_HASH_SECRET,
      CHAT_MESSAGES_PER_MINUTE: '100000',
      // The sends below go one after another as fast as they are acknowledged: on a quick machine
      // more than WS_EVENT_BURST (100) of them while the receiver is away, and an event over the
      // inbound budget is dropped unanswered (CONTRACT §10), its ack never comes.
      WS_EVENT_RATE: '100000',
      WS_EVENT_BURST: '100000',
      SHUTDOWN_DRAIN_MS: '500'
    }
    const [a, b] = await Promise.all([startInstance(t, env), startInstance(t, env)])
    const balancer = await roundRobin(t, [a.port, b.port])
    const room = `D${randomUUID().slice(0, 6)}`
    // The receiver comes through the balancer (to a, first in turn); the sender talks to b directly.
    const receiver: Socket = ioClient(balancer, { transports: ['websocket'], forceNew: true, reconnectionDelay: 100, auth: { token: token('receiver') } })
    const sender: Socket = ioClient(b.url, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: token('sender') } })
    t.teardown(() => { receiver.disconnect(); sender.disconnect() })
    await Promise.all([connected(receiver), connected(sender)])
    for (const socket of [receiver, sender]) {
      const joined = once(socket, 'joined_room')
      socket.emit('join_room', room)
      await joined
    }
    const received: string[] = []
    receiver.on('new_message', (m: { content: string }) => { received.push(m.content) })
    // The ack's bound is no latency assertion; the slowest send is printed.
    let slowestMs = 0
    const send = async (content: string) => {
      const started = Date.now()
      const ack = await sender.timeout(20_000).emitWithAck('send_message', { content, room })
      slowestMs = Math.max(slowestMs, Date.now() - started)
      if (ack?.ok === false) throw new Error(`send_message refused: ${ack.error.code}`)
    }
    const first = once(receiver, 'new_message')
    await send('m0')
    await first
    const reasons: string[] = []
    receiver.on('disconnect', (reason) => { reasons.push(reason) })
    const back = once(receiver, 'connect', 20_000)
    a.child.kill('SIGTERM')
    // Messages go on while the receiver is away and after it is back.
    let n = 1
    const away = { over: false }
    back.then(() => { away.over = true }, () => {})
    while (!away.over && n < 500) await send(`m${n++}`)
    await back
    const last = n + 5
    while (n < last) await send(`m${n++}`)
    const all = Array.from({ length: n }, (_, i) => `m${i}`)
    const done = new Promise<void>((resolve) => {
      const check = () => { if (received.includes(`m${n - 1}`)) { receiver.off('new_message', check); resolve() } }
      receiver.on('new_message', check)
      check()
    })
    await Promise.race([done, once(receiver, 'never', 10_000)]).catch((err: Error) => {
      t.comment({ reasons, recovered: receiver.recovered, received: received.length, sent: n })
      throw err
    })
    t.comment(`the slowest of the ${n} sends took ${slowestMs} ms`)
    t.same(reasons, ['transport close'], 'the client saw its transport close, not a server disconnect')
    t.equal(receiver.recovered, true, 'it reconnected by itself and recovered its session')
    t.same(received, all, `each of the ${n} messages arrived exactly once, in order`)
    t.equal(await a.exited, 0, 'the stopped instance exited 0')
    t.match(a.output(), /draining sockets/, 'it said it drained')
  })
}
