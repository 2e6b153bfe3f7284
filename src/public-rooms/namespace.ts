import type { Namespace, Server, Socket } from 'socket.io'
import { AppError } from '../errors.js'
import { createEventTable, on, registerEventTable } from '../socket/event-table.js'
import type { Presence, ScopeLeft } from '../presence/service.js'
import type { ConnectionSlots } from '../services/slots.js'
import {
  JoinRoomPayload, LeaveRoomPayload, PongPayload, PublicRoomErrorCode as Code,
  type UserJoinedEvent, type UserLeftEvent, type WireError
} from '../contract/public-rooms.js'
import { isRoomId, roomIdOfScope, roomScope, type PublicRooms } from './service.js'

/** Seed 000's dynamic namespace: `/public-room/:roomId`. */
export const PUBLIC_ROOM_NAMESPACE = /^\/public-room\/[^/]+$/
export const namespaceOf = (roomId: string): string => `/public-room/${roomId}`
/** Socket.IO room (inside a room's namespace) of the sockets that joined: broadcasts go there. */
export const PARTICIPANTS = 'participants'

export interface PublicRoomsNamespaceOptions {
  io: Server
  parent: Namespace
  rooms: PublicRooms
  presence: Pick<Presence, 'leave' | 'disconnect' | 'socketsOf'>
  slots: Pick<ConnectionSlots, 'acquire' | 'release' | 'max'>
  /** The HMAC of the socket's client address. */
  ipHashOf: (socket: Socket) => string
  /** Socket-driven work that shutdown must wait for. */
  track: <T>(work: Promise<T>) => Promise<T>
  log: { warn: (obj: object, msg: string) => void }
}

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
  queue: Promise<unknown>
}

/**
 * With connection state recovery on, `socket.emit` goes through the adapter, which with Redis
 * first appends the packet to the stream and only then writes it: an `error` followed by a
 * disconnect (a refusal here, CONNECTION_TIMEOUT in the health ping) would arrive after the
 * disconnect, that is never. This socket's errors are written to its connection at once.
 */
function writeErrorsAtOnce (socket: Socket): void {
  const emit = socket.emit.bind(socket)
  socket.emit = ((event: string, ...args: unknown[]) => {
    if (event !== 'error') return emit(event, ...args)
    return socket.nsp.local.to(socket.id).emit(event, ...args)
  }) as typeof socket.emit
}

function serial<T> (session: Session, work: () => Promise<T>): Promise<T> {
  const run = session.queue.then(work)
  session.queue = run.catch(() => {})
  return run
}

/** The namespace's handlers and the operations REST and the host app use on it. */
export function createPublicRoomsNamespace (options: PublicRoomsNamespaceOptions) {
  const { io, parent, rooms, presence, slots, ipHashOf, track, log } = options
  const sessions = new WeakMap<Socket, Session>()

  const participants = (roomId: string) => io.of(namespaceOf(roomId)).to(PARTICIPANTS)
  const userLeft = (roomId: string, left: UserLeftEvent) => { participants(roomId).emit('user-left', left) }

  function sessionOf (socket: Socket): Session {
    const session = sessions.get(socket)
    if (!session) throw new AppError(Code.CONNECTION_ERROR, 'Connection not initialised')
    return session
  }

  function refuse (socket: Socket, session: Session, code: string, message: string): void {
    session.refusal = { code, message }
    if (!socket.connected) return
    socket.emit('error', session.refusal)
    // This namespace only: a client multiplexing other namespaces on the connection keeps them.
    socket.disconnect()
  }

  function requireAdmitted (session: Session): void {
    if (session.admitted) return
    const refusal = session.refusal ?? { code: Code.CONNECTION_ERROR, message: 'Connection not established' }
    throw new AppError(refusal.code, refusal.message)
  }

  async function admit (socket: Socket, session: Session): Promise<void> {
    try {
      if (!isRoomId(session.roomId) || !(await rooms.roomExists(session.roomId))) {
        return refuse(socket, session, Code.ROOM_NOT_FOUND, 'Room not found')
      }
      session.slotTried = true
      const slot = await slots.acquire(session.ipHash, socket.id)
      if (!slot.ok) {
        return refuse(socket, session, Code.TOO_MANY_CONNECTIONS, `At most ${slots.max} concurrent connections per IP address`)
      }
      session.admitted = true
    } catch (err) {
      log.warn({ err, namespace: socket.nsp.name }, 'public room connection failed')
      refuse(socket, session, Code.CONNECTION_ERROR, 'Failed to establish connection')
    }
  }

  /**
   * A user's last socket left a room: the seat is given back, then the rest hear `user-left`
   * (also when giving the seat back failed: the user is gone either way).
   */
  async function userGone (roomId: string, left: UserLeftEvent): Promise<void> {
    try {
      await rooms.releaseSeatIfAbsent(roomId, left.userId)
    } finally {
      userLeft(roomId, left)
    }
  }

  /** Users removed from scopes by a disconnect or a sweep; one failure does not stop the rest. */
  async function usersLeft (left: ScopeLeft[]): Promise<void> {
    for (const entry of left) {
      const roomId = roomIdOfScope(entry.scope)
      if (roomId === null || !entry.last) continue
      await userGone(roomId, { userId: entry.userId, currentOccupancy: entry.count }).catch((err: unknown) => {
        log.warn({ err, roomId, userId: entry.userId }, 'public room seat release failed')
      })
    }
  }

  /** Disconnect = leave. The slot goes first, so whoever hears `user-left` may connect again. */
  async function cleanup (socket: Socket, session: Session): Promise<void> {
    try {
      if (session.slotTried) await slots.release(session.ipHash, socket.id)
    } finally {
      if (session.admitted) await usersLeft((await presence.disconnect(socket.id)).left)
      dropIfUnknown(socket.nsp, session)
    }
  }

  /**
   * Every name matching the pattern gets a child namespace; those of rooms that do not exist
   * are dropped once empty, as Socket.IO's `cleanupEmptyChildNamespaces` would, so that made-up
   * room ids cannot grow the server's memory.
   */
  function dropIfUnknown (nsp: Namespace, session: Session): void {
    if (session.refusal?.code !== Code.ROOM_NOT_FOUND || nsp.sockets.size > 0) return
    if (io._opts.cleanupEmptyChildNamespaces === true || io._nsps.get(nsp.name) !== nsp) return
    nsp.adapter.close()
    io._nsps.delete(nsp.name)
    ;(parent as unknown as { children: Set<Namespace> }).children.delete(nsp)
  }

  const table = createEventTable({
    'join-room': on(JoinRoomPayload, async ({ userId }, socket) => {
      const session = sessionOf(socket)
      return await serial(session, async () => {
        requireAdmitted(session)
        const user = await rooms.verifyUser(userId, session.ipHash)
        if (session.userId !== null && session.userId !== user.userId) {
          throw new AppError(Code.INVALID_USER, 'This connection has already joined as another user')
        }
        if (!socket.connected) throw new AppError(Code.JOIN_ERROR, 'The connection closed')
        const { first, count } = await rooms.enter(session.roomId, user.userId, socket.id)
        session.userId = user.userId
        await socket.join(PARTICIPANTS)
        const joined: UserJoinedEvent = {
          userId: user.userId, userName: user.userName, joinedAt: new Date().toISOString(), currentOccupancy: count
        }
        // Another tab of a present user: only that tab hears it; the room already knows the user.
        if (first) socket.nsp.to(PARTICIPANTS).emit('user-joined', joined)
        else socket.emit('user-joined', joined)
        return { ok: true, ...joined }
      })
    }),

    'leave-room': on(LeaveRoomPayload, async ({ userId }, socket) => {
      const session = sessionOf(socket)
      return await serial(session, async () => {
        requireAdmitted(session)
        if (session.userId !== null) {
          if (userId !== session.userId) throw new AppError(Code.INVALID_USER, 'This connection did not join as that user')
          const left = await presence.leave(socket.id, roomScope(session.roomId))
          await socket.leave(PARTICIPANTS)
          if (left.left && left.last) await userGone(session.roomId, { userId, currentOccupancy: left.count })
          // A retry after a failed seat release finds the user gone and finishes the job.
          else if (!left.left) await rooms.releaseSeatIfAbsent(session.roomId, userId)
        }
        // After the ack has gone out.
        setImmediate(() => socket.disconnect())
        return { ok: true }
      })
    }),

    // Activity is recorded by the health ping for any event; a pong needs nothing more.
    pong: on(PongPayload, () => undefined)
  }, {
    namespace: '/public-room/{roomId}',
    errorEvent: 'error',
    fallbackCode: (event) => event === 'join-room' ? Code.JOIN_ERROR : event === 'leave-room' ? Code.LEAVE_ERROR : Code.CONNECTION_ERROR,
    onUnexpected: (err, event, socket) => { log.warn({ err, event, namespace: socket.nsp.name }, 'public room event failed') }
  })
  registerEventTable(io, table)

  parent.on('connection', (socket: Socket) => {
    const session: Session = {
      roomId: socket.nsp.name.slice(namespaceOf('').length),
      ipHash: ipHashOf(socket),
      slotTried: false,
      admitted: false,
      refusal: null,
      userId: null,
      queue: Promise.resolve()
    }
    sessions.set(socket, session)
    writeErrorsAtOnce(socket)
    // A recovered socket gets its Socket.IO rooms back but its presence ended with the drop:
    // it is a participant again only after it says `join-room` (seed clients do on connect).
    if (socket.recovered) socket.leave(PARTICIPANTS)
    table.bind(socket)
    // admit() answers every failure itself (CONNECTION_ERROR); it never rejects.
    serial(session, async () => await admit(socket, session))
    socket.on('disconnect', () => {
      track(serial(session, async () => await cleanup(socket, session))).catch((err: unknown) => {
        log.warn({ err, namespace: socket.nsp.name }, 'public room disconnect cleanup failed')
      })
    })
  })

  return {
    /** Seed 000's `broadcastToPublicRoom`: to every participant of the room, on every instance. */
    broadcast (roomId: string, event: string, data?: unknown): void {
      if (!isRoomId(roomId)) return
      participants(roomId).emit(event, data)
    },

    /**
     * After a REST leave: the user's sockets in the room leave presence and the participants
     * room (they stay connected and may join again); the rest hear `user-left`.
     */
    async evict (roomId: string, userId: string): Promise<boolean> {
      const scope = roomScope(roomId)
      let wasPresent = false
      for (const socketId of await presence.socketsOf(userId)) {
        const left = await presence.leave(socketId, scope)
        if (!left.left) continue
        wasPresent = true
        io.of(namespaceOf(roomId)).in(socketId).socketsLeave(PARTICIPANTS)
        if (left.last) await userGone(roomId, { userId, currentOccupancy: left.count })
      }
      return wasPresent
    },

    /** Users removed without a socket event (a dead instance swept, or shutdown). */
    announceLeft (left: ScopeLeft[]): void {
      const ours = left.filter((entry) => roomIdOfScope(entry.scope) !== null)
      if (ours.length === 0) return
      track(usersLeft(ours)).catch((err: unknown) => { log.warn({ err }, 'public room sweep cleanup failed') })
    }
  }
}

export type PublicRoomsNamespace = ReturnType<typeof createPublicRoomsNamespace>
