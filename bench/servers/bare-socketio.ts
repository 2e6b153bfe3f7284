import { createServer } from 'node:http'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import { runServer } from './child.js'

type Ack = (reply: unknown) => void
const ackOf = (args: unknown[]) => typeof args[args.length - 1] === 'function' ? args[args.length - 1] as Ack : undefined

/**
 * The baseline users would otherwise write: `new Server(httpServer)` with default options and
 * seed 003's events, minimally: join a room, broadcast the message (same fields as roomwire's
 * `new_message`), ack.
 */
await runServer(async () => {
  const http = createServer()
  const io = new Server(http)
  io.on('connection', (socket) => {
    socket.on('join_room', (code: unknown, ...rest: unknown[]) => {
      const room = String(typeof code === 'object' && code !== null ? (code as { room: string }).room : code).trim().toUpperCase()
      socket.join(room)
      ackOf(rest)?.({ ok: true, room })
    })
    socket.on('send_message', (payload: { content: string, room: string }, ...rest: unknown[]) => {
      const room = String(payload.room).trim().toUpperCase()
      const message = {
        _id: randomUUID(),
        content: payload.content,
        sender: { _id: socket.id, username: socket.id, isOnline: true },
        room,
        messageType: 'text',
        createdAt: new Date().toISOString(),
        isEdited: false
      }
      io.to(room).emit('new_message', message)
      ackOf(rest)?.(message)
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    port: (http.address() as AddressInfo).port,
    connections: () => io.engine.clientsCount,
    close: async () => { io.disconnectSockets(true); await io.close() }
  }
})
