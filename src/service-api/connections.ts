import { userRoom } from '../chat/types.js'
import { invalid, toSocketUser, userSockets, type ServiceApiContext } from './context.js'
import type { ConnectedUser, SocketUser } from './types.js'

/** Who is connected to `/`, on every instance, and disconnecting them. */
export function connectionMethods (ctx: ServiceApiContext) {
  const { registry, sockets, now } = ctx
  return {
    /** The socket, on any instance; null when it is not connected to `/`. */
    async getUser (socketId: string): Promise<SocketUser | null> {
      const entry = typeof socketId === 'string' && socketId !== '' ? await registry.get(socketId) : null
      return entry ? toSocketUser(entry) : null
    },

    /** Users with a socket on `/`, on every instance, one entry per user. */
    async getConnectedUsers (): Promise<ConnectedUser[]> {
      const byUser = new Map<string, ConnectedUser>()
      for (const s of (await registry.all()).sort((a, b) => a.connectedAt - b.connectedAt)) {
        const user = byUser.get(s.userId)
        if (!user) {
          byUser.set(s.userId, {
            id: s.userId, userId: s.userId, username: s.username, displayName: s.displayName, socketIds: [s.socketId], connectedAt: new Date(s.connectedAt), lastActivity: new Date(s.lastActivity)
          })
        } else {
          user.socketIds.push(s.socketId)
          if (s.lastActivity > user.lastActivity.getTime()) user.lastActivity = new Date(s.lastActivity)
        }
      }
      return [...byUser.values()]
    },

    async isUserOnline (userId: string): Promise<boolean> {
      return (await userSockets(ctx, userId)).length > 0
    },

    /** Socket ids of the user on `/`, every instance (tabs and devices). */
    async getUserSockets (userId: string): Promise<string[]> {
      return (await userSockets(ctx, userId)).map((s) => s.socketId)
    },

    /** Disconnects every socket of the user on every instance; resolves to how many there were. */
    async disconnectUser (userId: string, reason = 'disconnected by server'): Promise<number> {
      const found = await userSockets(ctx, userId)
      if (found.length === 0) return 0
      await registry.markKicked(found.map((s) => s.socketId), reason)
      await sockets.disconnect({ rooms: [userRoom(userId)] })
      return found.length
    },

    /** Disconnects sockets with no client event for `inactiveMinutes`, on every instance; resolves to how many. */
    async cleanup (inactiveMinutes = 30): Promise<number> {
      if (typeof inactiveMinutes !== 'number' || !Number.isFinite(inactiveMinutes) || inactiveMinutes < 0) {
        throw invalid('inactiveMinutes must be a non-negative number')
      }
      const cutoff = now() - inactiveMinutes * 60_000
      const idle = (await registry.all()).filter((s) => s.lastActivity < cutoff).map((s) => s.socketId)
      if (idle.length === 0) return 0
      await registry.markKicked(idle, 'inactive')
      await sockets.disconnect({ sockets: idle })
      return idle.length
    }
  }
}
