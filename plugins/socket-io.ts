import fp from 'fastify-plugin'
import { Server, type ServerOptions } from 'socket.io'
import { parseCorsOrigin } from '../src/config.js'
import { drainConnections } from '../src/socket/drain.js'
import { createInboundBudget, limitInbound } from '../src/socket/inbound-budget.js'
import { dropSlowConsumers } from '../src/socket/slow-consumers.js'
import { batchWebSocketWrites } from '../src/socket/write-batching.js'
import { crossInstanceAdapter } from '../src/socket/cross-instance.js'
import { boundedSessionAwareAdapter, namespacesOf } from '../src/socket/workarounds.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one Socket.IO server every namespace plugin registers on. */
    io: Server
    /**
     * The drain of SIGTERM/SIGINT (CONTRACT §11): stops accepting, closes every connection's
     * transport over SHUTDOWN_DRAIN_MS (or `overMs`); `close()` afterwards drops the rest.
     */
    drainSockets: (overMs?: number) => Promise<void>
  }
}

export interface SocketIoPluginOptions {
  /** Socket.IO's HTTP path; under a route prefix it becomes `${prefix}/socket.io`. */
  path?: string
  /** Extra Socket.IO server options, merged over the ones built from config. */
  serverOptions?: Partial<ServerOptions>
}

/**
 * Our own equivalent of fastify-socket.io (CONTRACT §1 says why it is not used): decorate
 * `io`, disconnect sockets on preClose, close on onClose. With Redis, the adapter
 * crossInstanceAdapter chooses carries broadcasts and connection state recovery across instances.
 */
export default fp<SocketIoPluginOptions>(async (app, opts) => {
  const config = app.realtimeConfig
  const recoveryLimits = { maxPackets: config.recoveryMaxPackets, maxBytes: config.recoveryMaxBytes }
  // An adapter passed in `serverOptions` wins; no Redis client of ours is opened for it then.
  const crossInstance = opts.serverOptions?.adapter === undefined
    ? await crossInstanceAdapter(config, (obj, msg) => { app.log.debug(obj, msg) }, { instanceId: app.instanceId })
    : null
  const adapter = crossInstance?.adapter
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
    serverOptions.adapter = boundedSessionAwareAdapter(recoveryLimits) as unknown as ServerOptions['adapter']
  }
  const io = new Server(app.server, serverOptions)
  // Issue 23: one system call for what a connection is sent in one turn of the event loop.
  batchWebSocketWrites()
  app.decorate('io', io)
  // CONTRACT §10: every socket of every namespace has an inbound budget and an outgoing cap.
  limitInbound(io, createInboundBudget({
    rate: config.wsEventRate, burst: config.wsEventBurst, abuseMs: config.wsAbuseSeconds * 1000
  }))
  dropSlowConsumers(io, config.wsMaxBufferedBytes, () => {
    app.log.warn('connection dropped: more than WS_MAX_BUFFERED_BYTES waited for it (a slow consumer)')
  })
  app.decorate('drainSockets', (overMs = config.shutdownDrainMs) => drainConnections(io, app.server, overMs))
  app.addHook('preClose', (done) => {
    // io.local only covers `/`: every namespace, dynamic children included.
    for (const nsp of namespacesOf(io)) nsp.local.disconnectSockets(true)
    done()
  })
  app.addHook('onClose', async () => {
    await io.close()
    await crossInstance?.close()
  })
}, { name: 'socket-io', dependencies: ['config'] })
