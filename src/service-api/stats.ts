import type { ServiceApiContext } from './context.js'
import { channel } from './rooms.js'
import type { ConnectionStats, RoomStats } from './types.js'

/** Counts across the cluster: connections, rooms, messages. */
export function statsMethods ({ chat, registry, rooms }: ServiceApiContext) {
  return {
    async getStats (): Promise<ConnectionStats> {
      const [sockets, totalConnections, totals] = await Promise.all([registry.all(), registry.totalConnections(), rooms.totals()])
      return {
        totalConnections,
        activeConnections: sockets.length,
        onlineUsers: new Set(sockets.map((s) => s.userId)).size,
        totalRooms: totals.rooms,
        totalMessages: totals.messages
      }
    },

    async getRoomStats (roomId: string): Promise<RoomStats | null> {
      const room = await chat.getRoom(roomId, 'channel')
      if (!room) return null
      const [info, messageCount, joined] = await Promise.all([
        chat.roomInfo(channel(roomId)), chat.countMessages(roomId), rooms.joinedAt(roomId)
      ])
      return {
        roomId,
        name: room.name,
        memberCount: info.onlineCount,
        socketCount: info.socketCount,
        messageCount,
        createdAt: room.createdAt,
        lastActivity: new Date(Math.max(room.lastActivityAt.getTime(), joined))
      }
    }
  }
}
