/**
 * The ONLY code that emits to sockets and rooms, or moves sockets between Socket.IO rooms: every
 * other module hands it typed emissions (emission.ts). One outbox per namespace.
 */
import type { Namespace, Socket } from 'socket.io'
import type { WireError } from '../errors.js'
import { instanceRoom } from './adapter/names.js'
import type { Audience, Emission, ServerEventMap } from './emission.js'

export interface OutboxOptions {
  /** The Socket.IO room every socket of a user joins, for `{ user }` audiences. */
  userRoom?: (userId: string) => string
}

/** Socket ids, or a room, whose sockets (on any instance) are moved or disconnected. */
export type SocketSelection = { sockets: string[] } | { room: string }

/** Sockets known to be on one instance carry its marker room: the sharded adapter sends them there only. */
const socketRooms = (to: { sockets: string[], instance?: string }): string[] =>
  to.instance === undefined || to.instance === '' ? to.sockets : [instanceRoom(to.instance), ...to.sockets]

export function createOutbox<M extends ServerEventMap> (nsp: Namespace, options: OutboxOptions = {}) {
  function operator (to: Audience) {
    if ('socket' in to) return nsp.to(to.socket)
    // One emission for many sockets: one adapter message, however many instances they are on.
    if ('sockets' in to) return nsp.to(socketRooms(to))
    if ('room' in to) return to.except === undefined || to.except.length === 0 ? nsp.to(to.room) : nsp.to(to.room).except(to.except)
    if ('user' in to) {
      if (options.userRoom === undefined) throw new Error(`outbox of ${nsp.name}: no userRoom for a user audience`)
      return nsp.to(options.userRoom(to.user))
    }
    return nsp
  }

  /** The Socket.IO rooms of an audience, for a raw adapter broadcast (no rooms: everyone). */
  function roomsOf (to: Audience): string[] {
    if ('socket' in to) return [to.socket]
    if ('sockets' in to) return socketRooms(to)
    if ('room' in to) return [to.room]
    if ('user' in to) {
      if (options.userRoom === undefined) throw new Error(`outbox of ${nsp.name}: no userRoom for a user audience`)
      return [options.userRoom(to.user)]
    }
    return []
  }

  /** What BroadcastOperator#emit does, but with the adapter's promise kept (emit drops it). */
  async function broadcast (emission: Emission<M>): Promise<void> {
    // No sockets is no one (an empty list of rooms would be everyone).
    if ('sockets' in emission.to && emission.to.sockets.length === 0) return
    const data = 'payload' in emission ? [emission.event, emission.payload] : [emission.event]
    const except = 'room' in emission.to ? emission.to.except ?? [] : []
    const packet = { type: 2 /* EVENT */, data }
    await Promise.resolve(nsp.adapter.broadcast(packet, { rooms: new Set(roomsOf(emission.to)), except: new Set(except), flags: {} }) as unknown)
  }

  const selected = (which: SocketSelection) => nsp.in('room' in which ? which.room : which.sockets)

  /** Hands one emission to the adapter (which carries it to every instance and stores it for recovery). */
  function send (emission: Emission<M>): void {
    // No sockets is no one (an empty list of rooms would be everyone).
    if ('sockets' in emission.to && emission.to.sockets.length === 0) return
    const target = operator(emission.to)
    // No `payload` key: the event goes out without an argument (not with `null`).
    if ('payload' in emission) target.emit(emission.event, emission.payload)
    else target.emit(emission.event)
  }

  return {
    namespace: nsp,

    /** In order; each is handed to the adapter before the next. */
    send (...emissions: Array<Emission<M>>): void {
      for (const emission of emissions) send(emission)
    },

    /**
     * As `send`, each awaited until the adapter has taken it (with Redis, appended to the stream):
     * the chat's sequencer keeps a room's lock until then, so every instance's messages of a room
     * leave in seq order.
     */
    async deliver (emissions: Iterable<Emission<M>>): Promise<void> {
      for (const emission of emissions) await broadcast(emission)
    },

    /**
     * Written to this instance's connection of `socket` now, below the adapter: with connection
     * state recovery every emit goes through the adapter, which with Redis appends it to the
     * stream first, so an error followed by a disconnect would otherwise arrive after it (never).
     * Not stored for recovery.
     */
    writeAtOnce<E extends keyof M & string> (socket: Socket, event: E, ...payload: Parameters<M[E]>): void {
      socket.nsp.local.to(socket.id).emit(event, ...payload)
    },

    /** The namespace's error event, written at once (as `writeAtOnce`) to one socket. */
    writeErrorAtOnce (socket: Socket, errorEvent: string, error: WireError): void {
      socket.nsp.local.to(socket.id).emit(errorEvent, error)
    },

    /** A socket of this instance joins rooms. */
    async join (socket: Socket, rooms: string | string[]): Promise<void> {
      await socket.join(rooms)
    },

    async leave (socket: Socket, room: string): Promise<void> {
      await socket.leave(room)
    },

    /**
     * Sockets on any instance join rooms. Resolves when the instances holding them answered a
     * request sent after the join (the sharded adapter answers once it follows the new rooms), so
     * a broadcast sent next reaches them; never rejects (a lost instance drops its sockets anyway).
     */
    async joinRemote (which: SocketSelection, rooms: string | string[]): Promise<void> {
      const selection = selected(which)
      selection.socketsJoin(rooms)
      await selection.fetchSockets().catch(() => {})
    },

    /** Sockets on any instance leave rooms. */
    leaveRemote (which: SocketSelection, rooms: string | string[]): void {
      selected(which).socketsLeave(rooms)
    },

    /** Disconnects sockets on any instance (`close`: the whole connection, not only this namespace). */
    disconnect (which: SocketSelection, close = false): void {
      selected(which).disconnectSockets(close)
    },

    /** Disconnects this instance's sockets of the namespace (shutdown). */
    disconnectLocal (close = true): void {
      nsp.local.disconnectSockets(close)
    }
  }
}

export type Outbox<M extends ServerEventMap = ServerEventMap> = ReturnType<typeof createOutbox<M>>
