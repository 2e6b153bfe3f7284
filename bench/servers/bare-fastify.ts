import { createHmac, randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import { runServer } from './child.js'

interface Room { id: string, name: string, capacity: number, createdBy: string, createdAt: string, members: Map<string, string> }

const UUID = { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }

/**
 * The REST baseline: a bare Fastify with /health and the seed-000 join route done the same way
 * (body schema, room lookup, the user bound to the HMAC of the caller's IP, a seat taken once,
 * the room with its occupancy in the reply), state in memory instead of SQL.
 */
await runServer(async () => {
  const app = Fastify({ logger: false })
  const secret = process.env.IP_HASH_SECRET ?? 'bench-ip-hash-secret-0123456789'
  const hashIp = (ip: string) => createHmac('sha256', secret).update(ip).digest('hex')
  const users = new Map<string, { userName: string, ipHash: string }>()
  const rooms = new Map<string, Room>()
  const view = (r: Room) => ({ id: r.id, name: r.name, capacity: r.capacity, createdBy: r.createdBy, createdAt: r.createdAt, currentOccupancy: r.members.size })

  app.get('/health', async () => ({ status: 'ok', uptime: process.uptime() }))

  app.post<{ Body: { userName: string } }>('/api/public/users', {
    schema: { body: { type: 'object', required: ['userName'], properties: { userName: { type: 'string', minLength: 1, maxLength: 50 } } } }
  }, async (request, reply) => {
    const userId = randomUUID()
    users.set(userId, { userName: request.body.userName, ipHash: hashIp(request.ip) })
    return reply.code(201).send({ userId, userName: request.body.userName })
  })

  app.post<{ Body: { name: string, capacity?: number } }>('/api/public/rooms', {
    schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, capacity: { type: 'integer', minimum: 1, maximum: 1000 } } } }
  }, async (request, reply) => {
    const room: Room = { id: randomUUID(), name: request.body.name, capacity: request.body.capacity ?? 50, createdBy: 'bench', createdAt: new Date().toISOString(), members: new Map() }
    rooms.set(room.id, room)
    return reply.code(201).send(view(room))
  })

  app.post<{ Params: { roomId: string }, Body: { userId: string } }>('/api/public/rooms/:roomId/join', {
    schema: {
      params: { type: 'object', required: ['roomId'], properties: { roomId: { type: 'string' } } },
      body: { type: 'object', required: ['userId'], additionalProperties: false, properties: { userId: UUID } }
    }
  }, async (request, reply) => {
    const room = rooms.get(request.params.roomId)
    if (!room) return reply.code(404).send({ code: 'ROOM_NOT_FOUND', message: 'Room not found' })
    const user = users.get(request.body.userId)
    if (!user || user.ipHash !== hashIp(request.ip)) return reply.code(400).send({ code: 'INVALID_USER', message: 'Invalid user' })
    let joinedAt = room.members.get(request.body.userId)
    if (joinedAt === undefined) {
      if (room.members.size >= room.capacity) return reply.code(409).send({ code: 'ROOM_FULL', message: 'Room is full' })
      joinedAt = new Date().toISOString()
      room.members.set(request.body.userId, joinedAt)
    }
    return { room: view(room), member: { userId: request.body.userId, userName: user.userName, joinedAt } }
  })

  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    connections: () => 0,
    close: () => app.close()
  }
})
