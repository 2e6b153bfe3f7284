import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { Server, type Namespace, type ServerOptions } from 'socket.io'
import { createAdapter } from '@socket.io/redis-streams-adapter'
import { SessionAwareAdapter, type BroadcastOptions } from 'socket.io-adapter'
import { parseCorsOrigin } from '../src/config.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one Socket.IO server every namespace plugin registers on. */
    io: Server
  }
}

export interface SocketIoPluginOptions {
  /** Socket.IO's HTTP path; under a route prefix it becomes `${prefix}/socket.io`. */
  path?: string
  /** Extra Socket.IO server options, merged over the ones built from config. */
  serverOptions?: Partial<ServerOptions>
}

/** What SessionAwareAdapter keeps of a broadcast for connection state recovery (a private field). */
interface StoredPacket { id: string, opts: BroadcastOptions, data: unknown[], emittedAt: number }

// Shared by every stored broadcast sent to everyone, or excepting no one: recovery only reads them.
const NO_ROOMS: Set<string> = new Set()
const TO_EVERYONE: BroadcastOptions = { rooms: NO_ROOMS, except: NO_ROOMS }

/** The options recovery reads (`rooms`, `except`), with the shared empty set where one is empty. */
function storedOptions (opts: BroadcastOptions): BroadcastOptions {
  const rooms = opts.rooms.size === 0 ? NO_ROOMS : opts.rooms
  const except = opts.except === undefined || opts.except.size === 0 ? NO_ROOMS : opts.except
  return rooms === NO_ROOMS && except === NO_ROOMS ? TO_EVERYONE : { rooms, except }
}

/**
 * The in-memory adapter with connection state recovery, whose close() also stops the cleanup
 * interval its constructor starts: socket.io-adapter 2.5's close() is a no-op, so every child
 * namespace Socket.IO dropped once empty (`/public-room/:id`, cleanupEmptyChildNamespaces) stayed
 * reachable from its timer, with its adapter, forever (found by the soak: bench/soak.ts).
 */
export class ClosableSessionAwareAdapter extends SessionAwareAdapter {
  private timers: NodeJS.Timeout[]

  constructor (nsp: Namespace) {
    // The constructor keeps no handle on its timer: record the intervals it starts (synchronously).
    const timers: NodeJS.Timeout[] = []
    const original = globalThis.setInterval
    globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
      const timer = original(...args)
      timers.push(timer)
      return timer
    }) as typeof setInterval
    try {
      super(nsp)
    } finally {
      globalThis.setInterval = original
    }
    this.timers = timers
  }

  /**
   * Every broadcast is kept for maxDisconnectionDuration (2 min), so that a socket that comes
   * back gets what it missed. The library keeps the options it was sent with (two Sets, most
   * often empty, and flags recovery never reads) and the data array grown by the offset pushed
   * on it (room for 16 more): about 760 bytes a broadcast, where these take about 220. With every
   * user who comes online announced to all of `/`, that was a connection's largest cost.
   */
  override broadcast (packet: { data: unknown[] }, opts: BroadcastOptions): void {
    const stored = (this as unknown as { packets: StoredPacket[] }).packets
    const count = stored.length
    super.broadcast(packet, opts)
    if (stored.length === count) return
    const last = stored[stored.length - 1]
    last.opts = storedOptions(opts)
    last.data = last.data.slice()
  }

  override close (): void {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    super.close()
  }
}

type StreamsOptions = NonNullable<Parameters<typeof createAdapter>[1]> & { channelPrefix: string }
type Listener = (...args: unknown[]) => void

/**
 * The Redis Streams adapter, whose close() undoes what it set up for its namespace:
 * @socket.io/redis-streams-adapter 0.3.1 subscribes every namespace's adapter to the namespace's
 * channel and its own, with a `messageBuffer` listener on the shared subscriber client, and never
 * removes either. Every `/public-room/:id` namespace dropped once empty (and every made-up room
 * id) left a listener holding its namespace, a subscription, and work on every pub/sub message
 * (found by the soak: bench/soak.ts). The listeners are recorded as the library adds them (a
 * `subscribe` then, synchronously, its `on('messageBuffer')`), and dropped on close().
 */
export function closableStreamsAdapter (client: Redis, options: StreamsOptions): ServerOptions['adapter'] {
  const listeners = new Map<string, { subscriber: Redis, listener: Listener }>()
  /** Adapters closed before their subscription was made: channel list → channels to drop. */
  const closedEarly = new Map<string, string[]>()
  let pending: string | null = null
  const duplicate = client.duplicate
  // createAdapter duplicates the client (subscriber and stream readers) synchronously.
  client.duplicate = function (this: Redis, ...args: Parameters<Redis['duplicate']>) {
    const copy = duplicate.apply(this, args)
    const subscribe = copy.subscribe as (...a: unknown[]) => Promise<unknown>
    copy.subscribe = function (this: Redis, ...channels: unknown[]) {
      pending = channels.flat().join('\n')
      return subscribe.apply(this, channels)
    } as Redis['subscribe']
    const on = copy.on as (event: string | symbol, listener: Listener) => Redis
    copy.on = function (this: Redis, event: string | symbol, listener: Listener) {
      if (event === 'messageBuffer' && pending !== null) {
        const key = pending
        pending = null
        const drop = closedEarly.get(key)
        if (drop) {
          closedEarly.delete(key)
          copy.unsubscribe(...drop).catch(() => {})
          return copy
        }
        listeners.set(key, { subscriber: copy, listener })
      }
      return on.call(this, event, listener)
    } as Redis['on']
    return copy
  } as Redis['duplicate']
  let factory: ReturnType<typeof createAdapter>
  try {
    factory = createAdapter(client, options)
  } finally {
    client.duplicate = duplicate
  }
  const open = new Map<string, number>()
  // Socket.IO calls it with `new`: a function returning the adapter, not an arrow function.
  return function (nsp: Namespace) {
    const adapter = factory(nsp) as ReturnType<typeof factory> & { uid: string }
    open.set(nsp.name, (open.get(nsp.name) ?? 0) + 1)
    const close = adapter.close
    adapter.close = () => {
      const publicChannel = `${options.channelPrefix}#${nsp.name}#`
      const privateChannel = `${publicChannel}${adapter.uid}#`
      const key = `${publicChannel}\n${privateChannel}`
      const others = (open.get(nsp.name) ?? 1) - 1
      if (others > 0) open.set(nsp.name, others)
      else open.delete(nsp.name)
      // The namespace's channel stays while another adapter of the same name is open.
      const channels = others > 0 ? [privateChannel] : [publicChannel, privateChannel]
      const found = listeners.get(key)
      if (found) {
        listeners.delete(key)
        found.subscriber.off('messageBuffer', found.listener)
        found.subscriber.unsubscribe(...channels).catch(() => {})
      } else {
        closedEarly.set(key, channels)
      }
      return close.call(adapter)
    }
    return adapter
  } as unknown as ServerOptions['adapter']
}

/**
 * Our own equivalent of fastify-socket.io (CONTRACT §1 says why it is not used): decorate
 * `io`, disconnect sockets on preClose, close on onClose. With Redis, the Redis Streams
 * adapter carries broadcasts and connection state recovery across instances.
 */
export default fp<SocketIoPluginOptions>(async (app, opts) => {
  const config = app.realtimeConfig
  let adapterClient: Redis | null = null
  let adapter: ServerOptions['adapter'] | undefined
  // An adapter passed in `serverOptions` wins; no Redis client of ours is opened for it then.
  if (config.redisUrl && opts.serverOptions?.adapter === undefined) {
    const prefix = config.redisKeyPrefix
    // A client of its own: the adapter blocks on XREAD. While Redis is down its commands wait
    // for a reconnect, but are rejected after two attempts instead of queueing without bound
    // (a socket event that broadcasts must answer, not hang).
    // Named, so that CLIENT LIST tells the adapter's connection from the store's.
    adapterClient = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, connectionName: `${prefix}socket.io` })
    adapterClient.on('error', (err) => { app.log.debug({ err }, 'socket.io adapter redis error') })
    await adapterClient.connect()
    adapter = closableStreamsAdapter(adapterClient, {
      streamName: `${prefix}socket.io`,
      channelPrefix: `${prefix}socket.io`,
      sessionKeyPrefix: `${prefix}sio:session:`
    })
  }
  const origins = parseCorsOrigin(config.corsOrigin)
  const serverOptions: Partial<ServerOptions> = {
    path: opts.path ?? '/socket.io',
    // `cors` only sets response headers, which a WebSocket handshake ignores: refuse a foreign
    // Origin here for every transport. No Origin header (a non-browser client) is allowed.
    allowRequest: (req, callback) => {
      const origin = req.headers.origin
      callback(null, origins === true || origin === undefined || origins.includes(origin))
    },
    cors: { origin: origins, credentials: config.corsOrigin !== '*' },
    pingInterval: config.wsPingInterval,
    pingTimeout: config.wsPingTimeout,
    maxHttpBufferSize: config.wsMaxPayload,
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false },
    // Dynamic namespaces (`/public-room/:id`) of rooms nobody is in are dropped.
    cleanupEmptyChildNamespaces: true,
    ...(adapter ? { adapter } : {}),
    ...opts.serverOptions
  }
  if (serverOptions.adapter === undefined && serverOptions.connectionStateRecovery) {
    serverOptions.adapter = ClosableSessionAwareAdapter as unknown as ServerOptions['adapter']
  }
  const io = new Server(app.server, serverOptions)
  app.decorate('io', io)
  app.addHook('preClose', (done) => {
    // io.local only covers `/`: every namespace (dynamic children included) is in _nsps.
    const namespaces = (io as unknown as { _nsps: Map<string, Namespace> })._nsps
    for (const nsp of namespaces.values()) nsp.local.disconnectSockets(true)
    done()
  })
  app.addHook('onClose', async () => {
    await io.close()
    if (adapterClient) adapterClient.disconnect()
  })
}, { name: 'socket-io', dependencies: ['config'] })
