import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { inArray } from 'drizzle-orm'
import { publicRoomRouteSchemas as schemas } from '../src/contract/public-rooms.js'
import { publicUsers } from '../src/db/schema/index.js'
import { roomScope } from '../src/public-rooms/service.js'

/**
 * CONTRACT §4 REST. Rooms are created by registered users; anonymous users are bound to the
 * HMAC of the caller's IP (`request.ip`, which honours Fastify's trustProxy), and joining or
 * leaving on their behalf needs that same IP.
 */
const publicRoomsRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { rooms, hashIp } = app.publicRooms

  app.post('/api/public/rooms', { schema: schemas.createRoom, preHandler: app.realtimeAuth.authenticate }, async (request, reply) => {
    const room = await rooms.createRoom({ ...request.body, createdBy: request.identity!.id })
    return reply.code(201).send(room)
  })

  app.get('/api/public/rooms', { schema: schemas.listRooms }, async (request) => {
    return await rooms.listRoomPage(request.query)
  })

  app.get('/api/public/rooms/:roomId', { schema: schemas.getRoom }, async (request) => {
    return await rooms.getRoom(request.params.roomId)
  })

  // Presence knows who is here (on every instance); the names come from the users' rows.
  app.get('/api/public/rooms/:roomId/participants', { schema: schemas.participants }, async (request) => {
    const { roomId } = request.params
    const { limit = 50, cursor } = request.query
    await rooms.getRoom(roomId)
    const present = (await app.presence.members(roomScope(roomId))).map((m) => m.userId)
    const after = cursor === undefined ? present : present.filter((id) => id > cursor)
    const page = after.slice(0, limit)
    const rows = page.length === 0
      ? []
      : await app.sql.db.select({ userId: publicUsers.id, userName: publicUsers.userName }).from(publicUsers).where(inArray(publicUsers.id, page))
    const names = new Map(rows.map((r) => [r.userId, r.userName]))
    return {
      participants: page.filter((id) => names.has(id)).map((userId) => ({ userId, userName: names.get(userId)! })),
      currentOccupancy: present.length,
      nextCursor: after.length > limit ? page[page.length - 1] : null
    }
  })

  app.post('/api/public/users', { schema: schemas.createUser }, async (request, reply) => {
    return reply.code(201).send(await rooms.createUser(request.body.userName, hashIp(request.ip)))
  })

  app.post('/api/public/rooms/:roomId/join', { schema: schemas.join }, async (request) => {
    const { roomId } = request.params
    // A seat is no presence: the room as read before the join is the room after it.
    const room = await rooms.getRoom(roomId)
    const user = await rooms.verifyUser(request.body.userId, hashIp(request.ip))
    const { joinedAt } = await rooms.join(roomId, user.userId)
    return { room, member: { ...user, joinedAt: joinedAt.toISOString() } }
  })

  app.post('/api/public/rooms/:roomId/leave', { schema: schemas.leave }, async (request) => {
    const { roomId } = request.params
    await rooms.getRoom(roomId)
    const user = await rooms.verifyUser(request.body.userId, hashIp(request.ip))
    const wasMember = await rooms.removeMember(roomId, user.userId)
    const wasPresent = await rooms.evict(roomId, user.userId)
    return { left: wasMember || wasPresent, room: await rooms.getRoom(roomId) }
  })
}

export default publicRoomsRoutes
