import fp from 'fastify-plugin'
import { createRoomEventsHub, type RoomEventsHub } from '../src/services/room-events.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Where presence, chat and sync report what happens in rooms; the webhooks plugin listens. */
    roomEvents: RoomEventsHub
  }
}

/**
 * The room events port, before presence and the namespaces that report to it. Its shutdown
 * handler is registered before theirs, so it runs after them (handlers run in reverse): the
 * departures presence reports on shutdown are written before the webhook outbox closes.
 */
export default fp(async (app) => {
  const hub = createRoomEventsHub((err) => { app.log.warn({ err }, 'room events not reported') })
  app.decorate('roomEvents', hub)
  app.instances.onShutdown(() => hub.close())
}, { name: 'room-events', dependencies: ['instance'] })
