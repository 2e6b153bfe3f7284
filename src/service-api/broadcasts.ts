import { scopeOf, userRoom } from '../chat/types.js'
import { invalid, liveSocket, type ServiceApiContext } from './context.js'
import { channel } from './rooms.js'
import type { BroadcastOptions } from './types.js'

/** Event names Socket.IO gives a meaning of its own: a broadcast must never fake them. */
const RESERVED_EVENTS = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'])

function checkEvent (event: unknown): string {
  if (typeof event !== 'string' || event.length === 0 || event.length > 100) throw invalid('event must be 1-100 characters')
  if (RESERVED_EVENTS.has(event)) throw invalid(`"${event}" is reserved by Socket.IO`)
  return event
}

/** Server-side emits of any event name, through the adapter: they reach every instance. */
export function broadcastMethods (ctx: ServiceApiContext) {
  const { rooms, sockets } = ctx
  return {
    async broadcastToRoom (roomId: string, event: string, data: unknown, options: BroadcastOptions = {}): Promise<void> {
      checkEvent(event)
      await rooms.stored(roomId)
      await sockets.publish([scopeOf(channel(roomId))], event, data, options.except ?? [])
    },

    /** To every socket of these users, wherever they are connected. */
    async broadcastToUsers (userIds: string[], event: string, data: unknown): Promise<void> {
      checkEvent(event)
      const targets = [...new Set(userIds)].filter((id) => typeof id === 'string' && id !== '').map(userRoom)
      // No rooms would mean everyone.
      if (targets.length === 0) return
      await sockets.publish(targets, event, data)
    },

    async broadcastToAll (event: string, data: unknown, options: BroadcastOptions = {}): Promise<void> {
      checkEvent(event)
      await sockets.publish([], event, data, options.except ?? [])
    },

    async emitToSocket (socketId: string, event: string, data: unknown): Promise<void> {
      checkEvent(event)
      await liveSocket(ctx, socketId)
      await sockets.publish([socketId], event, data)
    }
  }
}
