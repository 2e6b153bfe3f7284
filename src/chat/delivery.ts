import type { Namespace } from 'socket.io'
import type { Presence } from '../presence/service.js'
import type { Profiles } from './profiles.js'
import type { ChatRepository } from './repository.js'
import { scopeOf, userRoom, type Emission, type OnlineUser, type RoomRef, type RoomView } from './types.js'

export interface DeliveryOptions {
  nsp: Namespace
  presence: Presence
  profiles: Profiles
  repo: ChatRepository
}

/**
 * Where chat events go: Socket.IO rooms (`group:{id}`, `code:{CODE}`, `channel:{id}`,
 * `user:{id}`, a socket id), so the adapter carries them to every instance; no SQL or store
 * round trip per delivery. Sockets are addressed by id, on this instance or another.
 */
export function createDelivery ({ nsp, presence, profiles, repo }: DeliveryOptions) {
  /** A broadcast through the adapter, resolved once handed over: the next one leaves after it. */
  async function publish (rooms: string[], event: string, payload: unknown, except: string[] = []): Promise<void> {
    const packet = { type: 2 /* EVENT */, data: [event, payload] }
    await Promise.resolve(nsp.adapter.broadcast(packet, { rooms: new Set(rooms), except: new Set(except), flags: {} }) as unknown)
  }

  async function online (room: RoomRef): Promise<OnlineUser[]> {
    const members = await presence.members(scopeOf(room))
    const names = await profiles.many(members.map(m => m.userId))
    return members.map(m => ({ ...names.get(m.userId)!, sockets: m.sockets }))
  }

  return {
    publish,
    online,

    /** Sends a presenter's emissions about `userId` in `room`; 'socket' ones go to `socketId`. */
    async deliver (emissions: Emission[], room: RoomRef, userId: string, socketId?: string): Promise<void> {
      const scope = scopeOf(room)
      for (const { to, event, payload } of emissions) {
        if (to === 'socket') {
          // Through the adapter even when local (as Socket#emit does with connection state
          // recovery), awaited: it reaches the socket before the ack that follows.
          if (socketId !== undefined) await publish([socketId], event, payload)
        } else if (to === 'room') {
          await publish([scope], event, payload)
        } else if (to === 'others') {
          await publish([scope], event, payload, [userRoom(userId)])
        } else {
          await publish([], event, payload)
        }
      }
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

    enterRoom (socketId: string, scope: string): void {
      const local = nsp.sockets.get(socketId)
      if (local) local.join(scope)
      else nsp.in(socketId).socketsJoin(scope)
    },

    exitRoom (socketId: string, scope: string): void {
      const local = nsp.sockets.get(socketId)
      if (local) local.leave(scope)
      else nsp.in(socketId).socketsLeave(scope)
    },

    /** Whether the socket has joined the room (its own rooms when local, presence otherwise). */
    async inRoom (socketId: string, room: RoomRef): Promise<boolean> {
      const scope = scopeOf(room)
      const local = nsp.sockets.get(socketId)
      if (local) return local.rooms.has(scope)
      return (await presence.scopesOfSocket(socketId)).includes(scope)
    }
  }
}

export type Delivery = ReturnType<typeof createDelivery>
