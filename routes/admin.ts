import type { FastifyPluginAsync, onRequestAsyncHookHandler } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { adminRouteSchemas, type AdminRoom, type AdminRoomListItem, type AdminRoomStats } from '../src/contract/admin.js'
import { checkMetadata } from '../src/contract/metadata.js'
import { AppError } from '../src/errors.js'
import type { Room, RoomStats } from '../src/service-api/types.js'

const notFound = () => new AppError('ROOM_NOT_FOUND', 'Room not found', 404)

const toAdminRoomListItem = (room: Room): AdminRoomListItem => ({
  id: room.id,
  name: room.name,
  namespace: room.namespace,
  createdBy: room.createdBy,
  createdAt: room.createdAt.toISOString(),
  lastActivity: room.lastActivity.toISOString(),
  members: [...room.members],
  memberCount: room.members.size
})

export const toAdminRoom = (room: Room): AdminRoom => ({ ...toAdminRoomListItem(room), metadata: room.metadata })

const toAdminRoomStats = (stats: RoomStats): AdminRoomStats => ({
  ...stats,
  createdAt: stats.createdAt.toISOString(),
  lastActivity: stats.lastActivity.toISOString()
})

/**
 * CONTRACT §7 admin REST over `app.realtime`. One hook guards every route: an admin JWT or
 * `x-api-key` (401 without credentials, 403 for a token without the admin role).
 */
const adminRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { realtime } = app
  app.addHook('onRequest', app.realtimeAuth.requireAdmin as onRequestAsyncHookHandler)

  app.post('/api/rooms', { schema: adminRouteSchemas.createRoom }, async (request, reply) => {
    const { name, namespace, createdBy, metadata } = request.body
    checkMetadata(metadata, app.realtimeConfig.channelMetadataMaxBytes)
    const room = await realtime.createRoom(name, namespace, createdBy ?? request.identity?.id ?? null, metadata)
    return reply.code(201).send({ room: toAdminRoom(room) })
  })

  app.get('/api/rooms', { schema: adminRouteSchemas.listRooms }, async (request) => {
    const { namespace, limit = 50, cursor } = request.query
    const { rooms, nextCursor } = await realtime.listRoomPage(namespace, { limit, cursor })
    return { rooms: rooms.map(toAdminRoomListItem), nextCursor }
  })

  app.get('/api/rooms/:id', { schema: adminRouteSchemas.getRoom }, async (request) => {
    const [room, members] = await Promise.all([realtime.getRoom(request.params.id), realtime.getRoomMembers(request.params.id)])
    if (!room) throw notFound()
    return { room: toAdminRoom(room), members: members.map(({ userId, username, displayName, sockets }) => ({ userId, username, displayName, sockets })) }
  })

  app.delete('/api/rooms/:id', { schema: adminRouteSchemas.deleteRoom }, async (request, reply) => {
    if (!(await realtime.deleteRoom(request.params.id))) throw notFound()
    return reply.code(204).send(null)
  })

  app.get('/api/rooms/:id/messages', { schema: adminRouteSchemas.messages }, async (request) => {
    if (!(await realtime.getRoom(request.params.id))) throw notFound()
    const { limit = 50, offset = 0 } = request.query
    return { messages: await realtime.getRoomMessages(request.params.id, limit, offset) }
  })

  app.get('/api/rooms/:id/stats', { schema: adminRouteSchemas.roomStats }, async (request) => {
    const stats = await realtime.getRoomStats(request.params.id)
    if (!stats) throw notFound()
    return toAdminRoomStats(stats)
  })

  app.post('/api/broadcast', { schema: adminRouteSchemas.broadcast }, async (request) => {
    const body = request.body
    if (body.target === 'room') await realtime.broadcastToRoom(body.roomId, body.event, body.data, { except: body.except })
    else if (body.target === 'users') await realtime.broadcastToUsers(body.userIds, body.event, body.data)
    else await realtime.broadcastToAll(body.event, body.data, { except: body.except })
    return { ok: true as const }
  })

  app.get('/api/stats', { schema: adminRouteSchemas.stats }, async () => {
    return await realtime.getStats()
  })

  app.post('/api/users/:id/disconnect', { schema: adminRouteSchemas.disconnectUser }, async (request) => {
    const disconnected = await realtime.disconnectUser(request.params.id, request.body?.reason)
    return { ok: true as const, disconnected }
  })
}

export default adminRoutes
