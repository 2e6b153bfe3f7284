import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { syncRouteSchemas } from '../src/contract/sync.js'

/** CONTRACT §5 REST: create (registered users), look up by code (anyone), delete (owner). */
const syncRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const rooms = app.syncRooms

  app.post('/api/sync/rooms', { schema: syncRouteSchemas.create, preHandler: app.realtimeAuth.authenticate }, async (request, reply) => {
    const room = await rooms.createRoom(request.identity!.id, request.body)
    return reply.code(201).send(room)
  })

  app.get('/api/sync/rooms/:code', { schema: syncRouteSchemas.get }, async (request) => {
    return await rooms.getRoom(request.params.code)
  })

  app.delete('/api/sync/rooms/:code', { schema: syncRouteSchemas.delete, preHandler: app.realtimeAuth.authenticate }, async (request, reply) => {
    await rooms.deleteRoom(request.params.code, request.identity!.id)
    return reply.code(204).send(null)
  })
}

export default syncRoutes
