import type { Namespace, Socket } from 'socket.io'
import { addAnyListener } from '../socket/workarounds.js'

/** Sockets by id or by Socket.IO room, on every instance. */
export type SocketSelection = { sockets: string[] } | { rooms: string[] }

/** What the service API needs of the socket layer of `/`: it never holds a Socket.IO object. */
export interface ServiceApiSocketPort {
  /** An event to sockets (by room or id; no rooms: everyone) but `except`, through the adapter; resolved once handed over. */
  publish (rooms: string[], event: string, payload: unknown, except?: string[]): Promise<void>
  /** Disconnects sockets on any instance (the whole connection). */
  disconnect (which: SocketSelection): Promise<void>
  /** Disconnects this instance's sockets of `/` (shutdown). */
  disconnectLocal (): void
  /** Ids of this instance's sockets of `/`. */
  localSocketIds (): string[]
  isLocal (socketId: string): boolean
  /** Every client event of every socket of `/` (activity); returns the unsubscribe. */
  onClientEvent (listener: (socketId: string) => void): () => void
  /** From now on, new connections to `/` are refused with SERVICE_UNAVAILABLE. */
  refuseConnections (): void
}

/** The port over the namespace `/`. */
export function serviceApiSocketPort (nsp: Namespace): ServiceApiSocketPort {
  let accepting = true
  nsp.use((_socket, next) => {
    if (accepting) return next()
    next(Object.assign(new Error('Service unavailable'), { data: { code: 'SERVICE_UNAVAILABLE', message: 'The service is shutting down' } }))
  })
  return {
    async publish (rooms, event, payload, except = []) {
      const packet = { type: 2 /* EVENT */, data: [event, payload] }
      await Promise.resolve(nsp.adapter.broadcast(packet, { rooms: new Set(rooms), except: new Set(except), flags: {} }) as unknown)
    },
    async disconnect (which) {
      const rooms = 'rooms' in which ? which.rooms : which.sockets
      await Promise.resolve(nsp.adapter.disconnectSockets({ rooms: new Set(rooms), except: new Set(), flags: {} }, true) as unknown)
    },
    disconnectLocal () { nsp.local.disconnectSockets(true) },
    localSocketIds: () => [...nsp.sockets.keys()],
    isLocal: (socketId) => nsp.sockets.has(socketId),
    onClientEvent (listener) {
      // One listener shared by every socket (`this` is the socket): no closure per connection.
      function touched (this: Socket): void { listener(this.id) }
      const onConnection = (socket: Socket) => { addAnyListener(socket, touched) }
      nsp.on('connection', onConnection)
      return () => { nsp.off('connection', onConnection) }
    },
    refuseConnections () { accepting = false }
  }
}
