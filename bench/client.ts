import { io, type Socket } from 'socket.io-client'
import WebSocket from 'ws'
import autocannon from 'autocannon'
import { notifyParent, serveRequests } from './lib/ipc.js'
import { createHistogram, encode, recordMs } from './lib/hist.js'
import { openStormSocket, type StormSocket } from './lib/storm-client.js'
import type { CollectResult, ConnectArgs, ConnectResult, PublishArgs, PublishResult, SocketSpec } from './lib/types.js'

/**
 * A load client process: opens sockets, joins rooms, publishes at a fixed rate and records
 * latency = receive time − the send time carried in the message (one machine, one clock:
 * performance.timeOrigin + performance.now()). The parent merges the histograms.
 */
const now = () => performance.timeOrigin + performance.now()
const ACK_TIMEOUT_MS = 30_000

interface Conn {
  spec: SocketSpec
  join (room: string): Promise<void>
  send (room: string, content: string, ack: boolean): Promise<unknown> | undefined
  close (): void
}

let latencies = createHistogram()
let received = 0
let firstAt = 0
let lastAt = 0
let conns: Conn[] = []
/** `error` events from the server (roomwire's refusals): a step with any is not a measurement. */
let serverErrors = 0
let firstServerError: string | undefined
/** Join storm: sockets of the minimal client (bench/lib/storm-client.ts). */
let stormSockets: StormSocket[] = []

function onContent (spec: SocketSpec, content: unknown): void {
  if (!spec.record) return
  const sentAt = Number(content)
  if (!Number.isFinite(sentAt)) return
  const at = now()
  recordMs(latencies, at - sentAt)
  received++
  if (firstAt === 0) firstAt = at
  lastAt = at
}

function ackError (reply: unknown): string | undefined {
  if (typeof reply === 'object' && reply !== null && (reply as { ok?: unknown }).ok === false) {
    return JSON.stringify((reply as { error?: unknown }).error)
  }
  return undefined
}

async function socketIoConn (args: ConnectArgs, spec: SocketSpec): Promise<Conn> {
  const socket: Socket = io(args.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: 60_000,
    ...(spec.token ? { auth: { token: spec.token } } : {})
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', (err) => reject(new Error(`connect_error: ${err.message} ${JSON.stringify((err as { data?: unknown }).data ?? '')}`)))
  })
  socket.on('error', (e: unknown) => {
    serverErrors++
    firstServerError ??= JSON.stringify(e)
  })
  const group = args.vocabulary === 'group'
  socket.on(group ? 'message_received' : 'new_message', (m: { content?: unknown }) => onContent(spec, m?.content))
  const conn: Conn = {
    spec,
    async join (room) {
      const reply = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(group ? 'join_group' : 'join_room', room)
      const error = ackError(reply)
      if (error) throw new Error(`join ${room}: ${error}`)
    },
    send (room, content, ack) {
      const payload = group ? { groupId: room, content } : { content, room }
      if (!ack) {
        socket.emit('send_message', payload)
        return undefined
      }
      return socket.timeout(ACK_TIMEOUT_MS).emitWithAck('send_message', payload).then((reply) => {
        const error = ackError(reply)
        if (error) throw new Error(error)
        return reply
      })
    },
    close () { socket.disconnect() }
  }
  return conn
}

async function wsConn (args: ConnectArgs, spec: SocketSpec): Promise<Conn> {
  const ws = new WebSocket(args.url.replace(/^http/, 'ws'))
  const pending = new Map<number, (reply: unknown) => void>()
  let nextId = 1
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  ws.on('error', () => {})
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { e: string, id?: number, data?: { content?: unknown } }
    if (frame.e === 'new_message') onContent(spec, frame.data?.content)
    else if (frame.e === 'ack' && frame.id !== undefined) {
      pending.get(frame.id)?.(frame)
      pending.delete(frame.id)
    }
  })
  const request = (frame: Record<string, unknown>, ack: boolean) => {
    const id = nextId++
    ws.send(JSON.stringify({ ...frame, id }))
    if (!ack) return undefined
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => { pending.delete(id); reject(new Error('ack timed out')) }, ACK_TIMEOUT_MS)
      pending.set(id, (reply) => { clearTimeout(timer); resolve(reply) })
    })
  }
  return {
    spec,
    async join (room) { await request({ e: 'join_room', room }, true) },
    send: (room, content, ack) => request({ e: 'send_message', room, content }, ack),
    close () { ws.terminate() }
  }
}

async function connect (args: ConnectArgs): Promise<ConnectResult> {
  const startedAt = now()
  let failures = 0
  let firstError: string | undefined
  let next = 0
  const open = args.protocol === 'ws' ? wsConn : socketIoConn
  async function worker () {
    while (next < args.sockets.length) {
      const spec = args.sockets[next++]
      try {
        const conn = await open(args, spec)
        conns.push(conn)
        for (const room of spec.rooms) await conn.join(room)
      } catch (err) {
        failures++
        firstError ??= String((err as Error).message ?? err)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(args.concurrency, args.sockets.length)) }, worker))
  return { opened: args.sockets.length - failures, startedAt, endedAt: now(), failures, firstError }
}

async function publish (args: PublishArgs): Promise<PublishResult> {
  const publishers = conns.filter(c => c.spec.publisher && (args.group === undefined || c.spec.group === args.group))
  const sent = new Array<number>(publishers.length).fill(0)
  const acks: Array<Promise<unknown>> = []
  const ackLatencies = createHistogram()
  let errors = 0
  let acked = 0
  let firstError: string | undefined
  const fail = (err: unknown) => { errors++; firstError ??= String((err as Error).message ?? err) }
  const start = now()
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = now() - start
      const done = elapsed >= args.durationMs
      const at = Math.min(elapsed, args.durationMs)
      publishers.forEach((conn, i) => {
        // Each publisher has its own phase, so that many rooms do not all publish in one tick.
        const due = Math.floor((at / 1000) * args.rate + i / publishers.length) - sent[i]
        for (let k = 0; k < due; k++) {
          const sentAt = now()
          sent[i]++
          try {
            const reply = conn.send(conn.spec.rooms[0], String(sentAt), args.ack === true)
            if (reply) {
              acks.push(reply.then(() => { acked++; recordMs(ackLatencies, now() - sentAt) }, fail))
            }
          } catch (err) {
            fail(err)
          }
        }
      })
      if (done) resolve()
      else setTimeout(tick, 2)
    }
    tick()
  })
  await Promise.all(acks)
  const total = sent.reduce((a, b) => a + b, 0)
  return { sent: total, acked, errors, firstError, ...(args.ack ? { ackHistogram: encode(ackLatencies) } : {}) }
}

serveRequests({
  connect,
  publish,
  reset: () => {
    latencies = createHistogram()
    received = 0
    firstAt = 0
    lastAt = 0
    serverErrors = 0
    firstServerError = undefined
    return true
  },
  count: () => received,
  collect: (): CollectResult => ({ received, histogram: encode(latencies), firstAt, lastAt, serverErrors, firstServerError }),
  close: (args?: { group?: string }) => {
    const closing = conns.filter(c => args?.group === undefined || c.spec.group === args.group)
    for (const conn of closing) conn.close()
    const closed = new Set(closing)
    conns = conns.filter(c => !closed.has(c))
    return closing.length
  },
  /** Join storm: opens one minimal Socket.IO socket per token, `concurrency` at once. */
  stormConnect: async (args: { url: string, tokens: string[], concurrency: number }) => {
    let next = 0
    async function worker () {
      while (next < args.tokens.length) stormSockets.push(await openStormSocket(args.url, args.tokens[next++], ACK_TIMEOUT_MS))
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(args.concurrency, args.tokens.length)) }, worker))
    return stormSockets.length
  },
  /** Join storm: every storm socket joins `room`, `concurrency` at once (join acks may take long: the baseline is slow). */
  joinAll: async (args: { room: string, concurrency: number, deadline: number }) => {
    let next = 0
    let failures = 0
    let firstError: string | undefined
    async function worker () {
      while (next < stormSockets.length) {
        try {
          await stormSockets[next++].join(args.room, Math.max(1, args.deadline - Date.now()))
        } catch (err) {
          failures++
          firstError ??= String((err as Error).message ?? err)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(args.concurrency, stormSockets.length)) }, worker))
    return { failures, firstError }
  },
  /** Join storm: bytes received so far, how many sockets hold a list of `size`, the latest list's time. */
  storm: (args: { size: number }) => {
    let bytes = 0
    let full = 0
    let lastAt = 0
    for (const s of stormSockets) {
      bytes += s.bytes
      if (s.listLength === args.size) full++
      lastAt = Math.max(lastAt, s.listAt)
    }
    return { bytes, full, lastAt }
  },
  stormReset: () => {
    for (const s of stormSockets) {
      s.bytes = 0
      s.listLength = -1
      s.listAt = 0
    }
    return true
  },
  stormClose: () => {
    for (const s of stormSockets) s.close()
    stormSockets = []
    return true
  },
  autocannon: async (options: autocannon.Options) => {
    const result = await autocannon(options)
    return {
      requestsPerSecond: result.requests.average,
      total: result.requests.total,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts
    }
  },
  stop: () => {
    for (const conn of conns) conn.close()
    for (const s of stormSockets) s.close()
    setImmediate(() => process.exit(0))
    return true
  }
})
notifyParent('ready')
