import fp from 'fastify-plugin'
import { parseTrustProxy } from '../src/config.js'
import { clientAddress, createIpHasher, trustFunction } from '../src/net.js'
import { limiterNames } from '../src/store/keys.js'
import { createSyncModeration } from '../src/sync/moderation.js'
import { createSyncRooms, type SyncRooms } from '../src/sync/service.js'
import { createSyncNamespace, createSyncOutbox, SYNC_NAMESPACE } from '../src/sync/namespace.js'

export { SYNC_NAMESPACE }

declare module 'fastify' {
  interface FastifyInstance {
    /** Watch-party rooms (CONTRACT §5): the domain service behind `/sync` and its REST routes. */
    syncRooms: SyncRooms
  }
}

export interface SyncPluginOptions {
  /** How often expired rooms are swept (default from the TTLs). */
  sweepIntervalMs?: number
  /** How often due reconnect graces are popped (default grace / 4, at most 1 s). */
  graceSweepMs?: number
}

/** Builds the watch-party service and its `/sync` namespace; a crashed instance's seats are handed to the grace. */
export default fp<SyncPluginOptions>(async (app, opts) => {
  const config = app.realtimeConfig
  const trust = trustFunction(parseTrustProxy(config.trustProxy))
  const nsp = app.io.of(SYNC_NAMESPACE)
  const service = createSyncRooms({
    db: app.sql.db,
    store: app.store,
    instanceId: app.instanceId,
    ttlMs: config.syncRoomTtlMs,
    graceMs: config.syncReconnectGraceMs,
    instanceTtlMs: config.instanceTtlMs,
    passwordLimiter: app.limiters.create(limiterNames.syncPassword, config.syncPasswordAttempts, config.syncPasswordWindowMs),
    outbox: createSyncOutbox(nsp),
    sweepIntervalMs: opts.sweepIntervalMs,
    graceSweepMs: opts.graceSweepMs,
    roomEvents: app.roomEvents,
    onError: (err) => { app.log.warn({ err }, 'sync background work failed') }
  })
  nsp.use(app.realtimeAuth.socketMiddleware({ required: false }))
  const ipHash = createIpHasher(config.ipHashSecret)
  const namespace = createSyncNamespace({
    nsp,
    service,
    moderation: createSyncModeration({ nsp, service, moderation: app.moderation }),
    ipHashOf: (socket) => ipHash(clientAddress(socket.request, trust)),
    log: app.log,
    track: (work) => { app.presenceHub.track(work).catch(() => {}) }
  })
  app.instances.onInstanceDead((deadInstanceId) => service.instanceDied(deadInstanceId))
  // Redis restarted empty or failed over: this instance's seats, attachments and playback go back.
  app.instances.onRestore(async () => { await service.state.restore() })

  app.decorate('syncRooms', service)
  service.start()
  // `io.local` is the main namespace only: this one's sockets are closed here, so that the HTTP
  // server can close; their seats then wait out the grace (another instance may take them back).
  app.addHook('preClose', (done) => {
    namespace.outboxOf(nsp).disconnectLocal(true)
    done()
  })
  // Runs before presence, socket-io and the store close (onClose hooks run in reverse order).
  app.addHook('onClose', async () => {
    await namespace.close()
    await service.close()
  })
}, { name: 'sync', dependencies: ['config', 'db', 'store', 'socket-io', 'auth', 'rate-limit', 'instance', 'presence', 'room-events', 'moderation'] })
