/**
 * Sockets restored on this instance whose client has more of a room's log than this instance has
 * written to the room (CONTRACT §11, §12). The restore reads the logs on the command connection;
 * the subscriber connection can hand this instance a broadcast the replay already gave, after
 * the restored socket joined. Until the room's log is written here up to where the replay ended,
 * those deliveries skip the socket, and replies to it carry no (older) offset.
 */
import type { BroadcastOptions } from 'socket.io-adapter'
import { compareIds } from './names.js'

/** A restored socket and the newest id of the room's log its client has. */
interface Replayed { sid: string, upTo: string }

export function createReplayed () {
  const rooms = new Map<string, Replayed[]>()

  return {
    /** Socket `sid` was restored with the room's log up to `upTo`; this instance wrote up to `last` (undefined: unknown). */
    restored (room: string, sid: string, upTo: string, last: string | undefined): void {
      if (last !== undefined && compareIds(upTo, last) <= 0) return
      rooms.set(room, [...(rooms.get(room) ?? []), { sid, upTo }])
    },
    /** Whether a socket restored here still has more of some room's log than this instance wrote. */
    ahead (sid: string): boolean {
      for (const waiting of rooms.values()) if (waiting.some(r => r.sid === sid)) return true
      return false
    },
    /**
     * The options for delivering entry `id` of the room's log here: without the restored sockets
     * that already have it. An entry is done once the log is written here up to what its client
     * had, or its socket left the room (`members`).
     */
    optionsFor (room: string, id: string, opts: BroadcastOptions, members: { has (sid: string): boolean } | undefined): BroadcastOptions {
      const waiting = rooms.get(room)
      if (waiting === undefined) return opts
      const except = new Set(opts.except)
      const still = waiting.filter((r) => {
        if (compareIds(id, r.upTo) <= 0) except.add(r.sid)
        return compareIds(id, r.upTo) < 0 && members?.has(r.sid) === true
      })
      if (still.length === 0) rooms.delete(room)
      else rooms.set(room, still)
      return { ...opts, except }
    },
    /** The room is no longer followed here. */
    forget (room: string): void {
      rooms.delete(room)
    }
  }
}
