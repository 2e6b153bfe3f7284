import fp from 'fastify-plugin'
import { createRealtimeService, type RealtimeService } from '../src/service-api/service.js'
import { serviceApiSocketPort } from '../src/service-api/socket-port.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Seed 004's WebSocketService (CONTRACT §7), correct across instances; lifted onto the host app. */
    realtime: RealtimeService
  }
}

export interface ServiceApiOptions {
  /** The clock of activity and `cleanup` (tests move it in minutes). */
  now?: () => number
  activityResolutionMs?: number
}

/** CONTRACT §7: `app.realtime` over the chat core, presence and the Socket.IO adapter. */
export default fp<ServiceApiOptions>(async (app, opts) => {
  const realtime = createRealtimeService({
    sockets: serviceApiSocketPort(app.io.of('/')),
    chat: app.chat,
    presence: app.presence,
    store: app.store,
    instances: app.instances,
    database: app.sql,
    instanceId: app.instanceId,
    track: app.presenceHub.track,
    now: opts.now,
    activityResolutionMs: opts.activityResolutionMs,
    metadataMaxBytes: app.realtimeConfig.channelMetadataMaxBytes,
    onError: (err) => { app.log.warn({ err }, 'service api background work failed') }
  })
  app.decorate('realtime', realtime)
  app.addHook('onClose', async () => { await realtime.close() })
}, { name: 'service-api', dependencies: ['chat', 'presence', 'store', 'db', 'socket-io'] })
