import { createServer } from 'node:http'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { runServer } from './child.js'

interface Frame { e: string, id?: number, room?: string, content?: string }

/**
 * The near limit: `ws` with a hand-rolled room broadcast. Frames are JSON; a broadcast is
 * serialised once and written to every member.
 */
await runServer(async () => {
  const http = createServer()
  const wss = new WebSocketServer({ server: http })
  const rooms = new Map<string, Set<WebSocket>>()
  wss.on('connection', (ws) => {
    const joined = new Set<string>()
    ws.on('message', (data) => {
      let frame: Frame
      try {
        frame = JSON.parse(data.toString()) as Frame
      } catch {
        return
      }
      const room = String(frame.room ?? '').trim().toUpperCase()
      if (frame.e === 'join_room') {
        let members = rooms.get(room)
        if (!members) rooms.set(room, members = new Set())
        members.add(ws)
        joined.add(room)
        ws.send(JSON.stringify({ e: 'ack', id: frame.id, room }))
      } else if (frame.e === 'send_message') {
        const message = {
          _id: randomUUID(),
          content: frame.content,
          sender: { _id: 'ws', username: 'ws', isOnline: true },
          room,
          messageType: 'text',
          createdAt: new Date().toISOString(),
          isEdited: false
        }
        const wire = JSON.stringify({ e: 'new_message', data: message })
        for (const member of rooms.get(room) ?? []) member.send(wire)
        ws.send(JSON.stringify({ e: 'ack', id: frame.id, data: message }))
      }
    })
    ws.on('close', () => {
      for (const room of joined) {
        const members = rooms.get(room)
        members?.delete(ws)
        if (members?.size === 0) rooms.delete(room)
      }
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    port: (http.address() as AddressInfo).port,
    connections: () => wss.clients.size,
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise((resolve) => wss.close(resolve))
      await new Promise((resolve) => http.close(resolve))
    }
  }
})
