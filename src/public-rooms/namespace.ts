import type { Namespace, Server, Socket } from 'socket.io'
import { AppError } from '../errors.js'
import type { PublicRoomServerToClientEvents } from '../client.js'
import type { ScopeLeft } from '../presence/service.js'
import { defineNamespace, on, type NamespaceLog, type SocketContext } from '../socket/namespace.js'
import type { PublicRoomEmission } from '../socket/emission.js'
import { createOutbox, type Outbox } from '../socket/outbox.js'
import { dropEmptyChildNamespace } from '../socket/workarounds.js'
import {
  JoinRoomPayload, LeaveRoomPayload, PongPayload, PublicRoomErrorCode as Code, type WireError
} from '../contract/public-rooms.js'
import type { ConnectionSlots } from './slots.js'
import { isRoomId, PARTICIPANTS, type PublicRoomPort, type PublicRooms } from './service.js'
import type { Moderation } from '../moderation/service.js'

/** Seed 000's dynamic namespace: `/public-room/:roomId`. */
export const PUBLIC_ROOM_NAMESPACE = /^\/public-room\/[^/]+$/
export const namespaceOf = (roomId: string): string => `/public-room/${roomId}`
export { PARTICIPANTS }

type Events = PublicRoomServerToClientEvents

/**
 * The service's emissions, each to its room's namespace (on every instance). Made before the
 * service, which it serves; the namespace below delivers its own through the same outboxes.
 */
export function createPublicRoomPort (io: Server) {
  // Keyed by the namespace: one Socket.IO dropped once empty takes its outbox with it.
  const outboxes = new WeakMap<Namespace, Outbox<Events>>()
  function outboxOf (roomId: string): Outbox<Events> {
    const nsp = io.of(namespaceOf(roomId))
    let outbox = outboxes.get(nsp)
    if (outbox === undefined) outboxes.set(nsp, (outbox = createOutbox<Events>(nsp)))
    return outbox
  }
  return {
    send (roomId: string, ...emissions: PublicRoomEmission[]): void { outboxOf(roomId).send(...emissions) },
    leaveParticipants (roomId: string, socketIds: string[]): void { outboxOf(roomId).leaveRemote({ sockets: socketIds }, PARTICIPANTS) },
    outboxOf
  } satisfies PublicRoomPort & { outboxOf: unknown }
}

export type PublicRoomOutboxes = ReturnType<typeof createPublicRoomPort>

export interface PublicRoomsNamespaceOptions {
  io: Server
  parent: Namespace
  rooms: PublicRooms
  outboxes: PublicRoomOutboxes
  slots: Pick<ConnectionSlots, 'acquire' | 'release' | 'max'>
  /** The HMAC of the socket's client address. */
  ipHashOf: (socket: Socket) => string
  /** Socket-driven work that shutdown must wait for. */
  track: (work: Promise<unknown>) => void
  log: NamespaceLog
  /** Kick and ban (issue 21): joins of a banned user are refused with BANNED. */
  moderation: Moderation
}

/** The Socket.IO room of a public user's sockets in its room's namespace (a kick reaches them on every instance). */
const userTag = (userId: string) => `user:${userId}`

/** What one connection holds; its work runs one step at a time (admission first, cleanup last). */
interface Session {
  roomId: string
  ipHash: string
  /** The slot script ran (it may hold a slot even if it failed to answer). */
  slotTried: boolean
  admitted: boolean
  refusal: WireError | null
  /** The public user this socket joined as (a socket is one user for its lifetime). */
  userId: string | null
}

type Context = SocketContext<Session, Events>

const fallbackCode = (event: string): string =>
  event === 'join-room' ? Code.JOIN_ERROR : event === 'leave-room' ? Code.LEAVE_ERROR : Code.CONNECTION_ERROR

function requireAdmitted (session: Session): void {
  if (session.admitted) return
  const refusal = session.refusal ?? { code: Code.CONNECTION_ERROR, message: 'Connection not established' }
  throw new AppError(refusal.code, refusal.message)
}

/** The namespace's event table and socket glue, and the operations the host app uses on it. */
export function createPublicRoomsNamespace (options: PublicRoomsNamespaceOptions) {
  const { io, parent, rooms, outboxes, slots, ipHashOf, log, moderation } = options
  moderation.enforce('public', {
    exists: async (roomId) => isRoomId(roomId) && await rooms.roomExists(roomId),
    // Disconnect = leave: the others hear `user-left` from each socket's cleanup.
    async remove (roomId, userId, notice) {
      const outbox = outboxes.outboxOf(roomId)
      const payload = { roomId, action: notice.action, until: notice.until?.toISOString() ?? null, reason: notice.reason }
      await outbox.deliver([{ to: { room: userTag(userId) }, event: 'moderated', payload }])
      outbox.disconnect({ room: userTag(userId) })
    },
    mutes: false
  })

  function refuse ({ socket, session, outbox }: Context, code: string, message: string): void {
    session.refusal = { code, message }
    if (!socket.connected) return
    outbox.writeErrorAtOnce(socket, 'error', session.refusal)
    // This namespace only: a client multiplexing other namespaces on the connection keeps them.
    socket.disconnect()
  }

  /** Answers every failure itself (a refusal, CONNECTION_ERROR): it never rejects. */
  async function admit (ctx: Context): Promise<void> {
    const { socket, session, outbox } = ctx
    // A recovered socket gets its Socket.IO rooms back but its presence ended with the drop:
    // it is a participant again only after it says `join-room` (seed clients do on connect).
    if (socket.recovered) await outbox.leave(socket, PARTICIPANTS)
    try {
      if (!isRoomId(session.roomId) || !(await rooms.roomExists(session.roomId))) {
        return refuse(ctx, Code.ROOM_NOT_FOUND, 'Room not found')
      }
      session.slotTried = true
      const slot = await slots.acquire(session.ipHash, socket.id)
      if (!slot.ok) {
        return refuse(ctx, Code.TOO_MANY_CONNECTIONS, `At most ${slots.max} concurrent connections per IP address`)
      }
      session.admitted = true
    } catch (err) {
      log.warn({ err, namespace: socket.nsp.name }, 'public room connection failed')
      refuse(ctx, Code.CONNECTION_ERROR, 'Failed to establish connection')
    }
  }

  /** Disconnect = leave. The slot goes first, so whoever hears `user-left` may connect again. */
  async function cleanup ({ socket, session }: Context): Promise<void> {
    try {
      if (session.slotTried) await slots.release(session.ipHash, socket.id)
    } finally {
      if (session.admitted) await rooms.participantGone(socket.id)
      // Made-up room ids must not grow the server's memory (see the workaround).
      if (session.refusal?.code === Code.ROOM_NOT_FOUND) dropEmptyChildNamespace(io, parent, socket.nsp)
    }
  }

  const namespace = defineNamespace<Session, Events>({
    nsp: parent,
    name: '/public-room/{roomId}',
    errorEvent: 'error',
    fallbackCode,
    log,
    session: (socket) => ({
      roomId: socket.nsp.name.slice(namespaceOf('').length),
      ipHash: ipHashOf(socket),
      slotTried: false,
      admitted: false,
      refusal: null,
      userId: null
    }),
    // Public-room sockets are anonymous: an IP's sockets also share one inbound budget.
    anonymousIp: (session) => session.ipHash,
    connect: admit,
    disconnect: cleanup,
    track: options.track,
    onUnexpected: (err, event, socket) => { log.warn({ err, event, namespace: socket.nsp.name }, 'public room event failed') },
    events: {
      'join-room': on(JoinRoomPayload, async ({ userId }, { socket, session, outbox }: Context) => {
        requireAdmitted(session)
        const user = await rooms.participantOf(userId, session.ipHash, session.userId)
        await moderation.checkJoin({ kind: 'public', id: session.roomId }, user.userId)
        if (!socket.connected) throw new AppError(Code.JOIN_ERROR, 'The connection closed')
        const { joined, emissions } = await rooms.joinAsParticipant(session.roomId, user, socket.id)
        session.userId = user.userId
        await outbox.join(socket, [PARTICIPANTS, userTag(user.userId)])
        outbox.send(...emissions)
        return { ok: true, ...joined }
      }),

      'leave-room': on(LeaveRoomPayload, async ({ userId }, { socket, session }: Context) => {
        requireAdmitted(session)
        if (session.userId !== null) await rooms.leaveAsParticipant(session.roomId, socket.id, userId, session.userId)
        // After the ack has gone out.
        setImmediate(() => socket.disconnect())
        return { ok: true }
      }),

      // Activity is recorded by the health ping for any event; a pong needs nothing more.
      pong: on(PongPayload, () => undefined, { ordered: false })
    }
  })

  return {
    /** Seed 000's `broadcastToPublicRoom`: to every participant of the room, on every instance. */
    broadcast (roomId: string, event: string, data?: unknown): void {
      if (!isRoomId(roomId)) return
      // The host app's own events: outside the contract's map, so the outbox's untyped face.
      const outbox = outboxes.outboxOf(roomId) as unknown as Outbox
      outbox.send({ to: { room: PARTICIPANTS }, event, payload: data })
    },

    /** Users removed without a socket event (a dead instance swept, or shutdown). */
    announceLeft (left: ScopeLeft[]): Promise<void> {
      return rooms.usersLeftWithoutEvent(left).catch((err: unknown) => { log.warn({ err }, 'public room sweep cleanup failed') })
    },

    /** Resolves once every socket's queued work has settled. */
    close: namespace.close
  }
}

export type PublicRoomsNamespace = ReturnType<typeof createPublicRoomsNamespace>
