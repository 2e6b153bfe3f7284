import type { ChatEmission } from '../socket/emission.js'
import type { Presence } from '../presence/service.js'
import type { Profiles } from './profiles.js'
import type { ChatRepository } from './repository.js'
import { scopeOf, userRoom, type OnlineUser, type RoomEmission, type RoomRef, type RoomView } from './types.js'

/**
 * What the chat service needs of the socket layer of `/` (src/chat/namespace.ts gives it, over
 * the outbox): the service never holds a Socket.IO object, it names sockets by id.
 */
export interface ChatSocketPort {
  /** In order; resolved once every emission has been handed to the adapter. */
  deliver (emissions: ChatEmission[]): Promise<void>
  /** The socket (on this instance or another) joins a Socket.IO room. */
  /** Resolves once broadcasts to `room` reach the socket. */
  enter (socketId: string, room: string): Promise<void>
  exit (socketId: string, room: string): void
  /** The Socket.IO rooms of a socket of this instance; undefined when it is not here. */
  localRoomsOf (socketId: string): ReadonlySet<string> | undefined
  /** Every socket leaves the room, wherever it is (a deleted room). */
  empty (room: string): void
}

export interface DeliveryOptions {
  sockets: ChatSocketPort
  presence: Presence
  profiles: Profiles
  repo: ChatRepository
}

/**
 * Where chat events go: Socket.IO rooms (`group:{id}`, `code:{CODE}`, `channel:{id}`,
 * `user:{id}`, a socket id), so the adapter carries them to every instance; no SQL or store
 * round trip per delivery. Sockets are addressed by id, on this instance or another.
 */
export function createDelivery ({ sockets, presence, profiles, repo }: DeliveryOptions) {
  async function online (room: RoomRef): Promise<OnlineUser[]> {
    const members = await presence.members(scopeOf(room))
    const names = await profiles.many(members.map(m => m.userId))
    return members.map(m => ({ ...names.get(m.userId)!, sockets: m.sockets }))
  }

  return {
    online,

    /**
     * Sends a presenter's emissions about `userId` in `room`; 'socket' ones go to `socketId`,
     * through the adapter even when local (as Socket#emit does with connection state recovery),
     * awaited: it reaches the socket before the ack that follows.
     */
    async deliver (emissions: RoomEmission[], room: RoomRef, userId: string, socketId?: string): Promise<void> {
      const scope = scopeOf(room)
      const out: ChatEmission[] = []
      for (const { to, event, payload } of emissions) {
        if (to === 'socket') {
          if (socketId !== undefined) out.push({ to: { socket: socketId }, event, payload } as ChatEmission)
        } else if (to === 'room') {
          out.push({ to: { room: scope }, event, payload } as ChatEmission)
        } else if (to === 'others') {
          out.push({ to: { room: scope, except: [userRoom(userId)] }, event, payload } as ChatEmission)
        } else {
          out.push({ to: { all: true }, event, payload } as ChatEmission)
        }
      }
      if (out.length > 0) await sockets.deliver(out)
    },

    /** What presenters may ask about a room, each computed at most once. */
    view (ref: RoomRef, knownMemberCount?: number): RoomView {
      let users: Promise<OnlineUser[]> | undefined
      let count: Promise<number> | undefined = knownMemberCount === undefined ? undefined : Promise.resolve(knownMemberCount)
      return {
        ref,
        online: () => (users ??= online(ref)),
        memberCount: () => (count ??= ref.kind === 'group' ? repo.members(ref.id).then(m => m.length) : Promise.resolve(0))
      }
    },

    enterRoom: (socketId: string, scope: string): Promise<void> => sockets.enter(socketId, scope),
    exitRoom: (socketId: string, scope: string): void => sockets.exit(socketId, scope),
    emptyRoom: (scope: string): void => sockets.empty(scope),

    /** Whether the socket has joined the room (its own rooms when local, presence otherwise). */
    async inRoom (socketId: string, room: RoomRef): Promise<boolean> {
      const scope = scopeOf(room)
      const local = sockets.localRoomsOf(socketId)
      if (local) return local.has(scope)
      return (await presence.scopesOfSocket(socketId)).includes(scope)
    }
  }
}

export type Delivery = ReturnType<typeof createDelivery>
