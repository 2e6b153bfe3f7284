import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import { runServer } from './child.js'

type Ack = (reply: unknown) => void
interface OnlineUser { userId: string, username: string, rooms: Set<string> }

/** HS256 only, `exp` required: the claims of a valid token, else undefined. */
function verify (token: unknown, secret: string): { sub: string, username?: string } | undefined {
  if (typeof token !== 'string') return undefined
  const [head, body, signature] = token.split('.')
  if (!head || !body || !signature) return undefined
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest()
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as { sub?: unknown, username?: unknown, exp?: unknown }
  if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return undefined
  return { sub: claims.sub, username: typeof claims.username === 'string' ? claims.username : undefined }
}

/**
 * Seed 003's `join_room` as its write-up has it, on a bare Socket.IO server: the JWT checked
 * at the handshake, an in-memory map of online users, and on every join the whole list of the
 * room's users (`users_online`) to the whole room. The join storm's baseline.
 */
await runServer(async () => {
  const secret = process.env.JWT_SECRET
  if (!secret) throw new Error('JWT_SECRET must be set')
  const http = createServer()
  const io = new Server(http)
  const onlineUsers = new Map<string, OnlineUser>()
  const roomUsers = (room: string) => Array.from(onlineUsers.values())
    .filter(u => u.rooms.has(room))
    .map(u => ({ userId: u.userId, username: u.username }))

  io.use((socket, next) => {
    const claims = verify(socket.handshake.auth?.token, secret)
    if (!claims) return next(new Error('Authentication error'))
    socket.data.userId = claims.sub
    socket.data.username = claims.username ?? claims.sub
    next()
  })
  io.on('connection', (socket) => {
    const userId = socket.data.userId as string
    onlineUsers.set(userId, { userId, username: socket.data.username as string, rooms: new Set() })
    socket.on('join_room', (code: unknown, ack?: Ack) => {
      const room = String(code).trim().toUpperCase()
      if (!room) return socket.emit('error', { message: 'Room code is required' })
      socket.join(room)
      onlineUsers.get(userId)?.rooms.add(room)
      socket.emit('joined_room', room)
      io.to(room).emit('users_online', roomUsers(room))
      if (typeof ack === 'function') ack({ ok: true, room })
    })
    socket.on('leave_room', (code: unknown) => {
      const room = String(code).trim().toUpperCase()
      socket.leave(room)
      onlineUsers.get(userId)?.rooms.delete(room)
      io.to(room).emit('users_online', roomUsers(room))
    })
    socket.on('disconnect', () => {
      const rooms = onlineUsers.get(userId)?.rooms ?? new Set<string>()
      onlineUsers.delete(userId)
      for (const room of rooms) io.to(room).emit('users_online', roomUsers(room))
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    port: (http.address() as AddressInfo).port,
    connections: () => io.engine.clientsCount,
    close: async () => { io.disconnectSockets(true); await io.close() }
  }
})
