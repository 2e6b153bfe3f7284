import fp from 'fastify-plugin'
import { clientAddress, createIpHasher, trustFunction } from '../src/net.js'
import { parseTrustProxy } from '../src/config.js'
import { createPublicRooms, type PublicRooms } from '../src/public-rooms/service.js'
import { createPublicRoomPort, createPublicRoomsNamespace, PUBLIC_ROOM_NAMESPACE } from '../src/public-rooms/namespace.js'
import { createPublicRoomsRepository } from '../src/public-rooms/repository.js'
import { createConnectionSlots } from '../src/public-rooms/slots.js'

export interface PublicRoomsApi {
  rooms: PublicRooms
  /** The HMAC of a raw IP address, as stored for anonymous users and connection slots. */
  hashIp (ip: string): string
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Seed 000's domain service, for the REST routes. */
    publicRooms: PublicRoomsApi
    /** Emits `event` to every participant of a public room, on every instance. */
    broadcastToPublicRoom (roomId: string, event: string, data?: unknown): void
    /**
     * Public-room connections held by an IP address (raw; it is hashed here) across all
     * instances. Unlike the seed's synchronous helper it returns a Promise: the count lives in
     * the shared store (Redis when configured).
     */
    getConnectionCount (ip: string): Promise<number>
    /** Stops the idle ping/pong sweep of the public-room namespaces. */
    stopHealthChecks (): void
  }
}

/** CONTRACT §4: the `/public-room/:roomId` namespace on the shared services. */
export default fp(async (app) => {
  const config = app.realtimeConfig
  const trust = trustFunction(parseTrustProxy(config.trustProxy))
  // As clientAddress gives a socket's address: an IPv4-mapped IPv6 address is its IPv4 one.
  const hashOnce = createIpHasher(config.ipHashSecret)
  const hash = (ip: string) => hashOnce(ip.startsWith('::ffff:') ? ip.slice(7) : ip)
  const outboxes = createPublicRoomPort(app.io)
  const rooms = createPublicRooms({ repository: createPublicRoomsRepository(app.sql.db), presence: app.presence, port: outboxes, log: app.log })
  const slots = createConnectionSlots({
    store: app.store, instanceId: app.instanceId, max: config.publicMaxConnectionsPerIp, staleMs: config.publicSlotStaleMs
  })

  const parent = app.io.of(PUBLIC_ROOM_NAMESPACE)
  // Registered before any child namespace exists: children copy the parent's middlewares.
  const healthPing = app.healthPing(parent, { idleMs: config.publicPingIdleMs, maxMissed: config.publicPingMaxMissed })
  const namespace = createPublicRoomsNamespace({
    io: app.io,
    parent,
    rooms,
    outboxes,
    slots,
    ipHashOf: (socket) => hash(clientAddress(socket.request, trust)),
    track: (work) => { app.presenceHub.track(work) },
    log: app.log,
    moderation: app.moderation
  })
  app.presenceHub.onLeft((left) => { app.presenceHub.track(namespace.announceLeft(left)) })

  app.decorate('publicRooms', { rooms, hashIp: hash })
  app.decorate('broadcastToPublicRoom', (roomId: string, event: string, data?: unknown) => {
    namespace.broadcast(roomId, event, data)
  })
  app.decorate('getConnectionCount', async (ip: string) => await slots.count(hash(ip)))
  app.decorate('stopHealthChecks', () => { healthPing.stop() })

  // A dead instance's slots: acquire and count skip them at once, this frees them for good.
  app.instances.onInstanceDead(async (deadInstanceId) => { await slots.releaseInstance(deadInstanceId) })
  // Before the instance leaves the registry: other instances see its slots free at once.
  app.instances.onShutdown(async () => { await slots.releaseInstance() })
  // Redis restarted empty or failed over: this instance's sockets take their slots again.
  app.instances.onRestore(async () => { await slots.restore() })
  // Before the lifecycle's shutdown (onClose runs last registered first): socket work finishes.
  app.addHook('onClose', async () => {
    healthPing.stop()
    await namespace.close()
  })
}, { name: 'public-rooms', dependencies: ['config', 'db', 'store', 'instance', 'socket-io', 'auth', 'presence', 'health-ping', 'moderation'] })
