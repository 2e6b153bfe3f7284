/**
 * What this instance delivered of each room's recovery log to its sockets, in the order it wrote
 * it: the whole memory recovery needs, per local room and not per socket (every local socket of a
 * room was written the room's broadcasts in this order; the few it was excepted from are filtered
 * again at replay). A socket that leaves keeps, in its stored session, its rooms' newest ids and
 * their last few deliveries, from which the offset its client saw tells what it really received.
 */

/** A log id not known yet (the room's starting point is still being read). */
export const UNKNOWN = '?'

/** One delivery to a room: the log entry's id, and the room's id before it. */
export interface Delivery { room: string, id: string, prev: string }

/** `recent` is made on the room's first delivery: most rooms (a user's own) may never get one. */
interface RoomPosition { last: string, recent?: Array<Delivery & { seq: number }> }

/** What a session keeps of its rooms' positions when its socket leaves. */
export interface PositionSnapshot {
  /** Per room, the newest log id written to this instance's sockets (or the room's starting point). */
  positions: Record<string, string>
  /** The most recent deliveries to those rooms, oldest first. */
  recent: Delivery[]
}

export function createPositions (recentPerRoom: number) {
  const rooms = new Map<string, RoomPosition>()
  let seq = 0

  return {
    /** A room gets its first local socket (its starting point comes with `start`). */
    open (room: string): void {
      if (!rooms.has(room)) rooms.set(room, { last: UNKNOWN })
    },
    /** The room's log's newest id when the instance began to receive it ('0-0': empty). */
    start (room: string, id: string): void {
      const position = rooms.get(room)
      if (position !== undefined && position.last === UNKNOWN) position.last = id
    },
    close (room: string): void {
      rooms.delete(room)
    },
    has (room: string): boolean {
      return rooms.has(room)
    },
    /** The newest log id written to the room's sockets here (UNKNOWN before its starting point; undefined: not followed). */
    last (room: string): string | undefined {
      return rooms.get(room)?.last
    },
    /**
     * A kept broadcast written to the room's sockets; `prev` is the log's entry before it (the
     * script's answer, '0-0': none), exact even when the room's starting point was read after it.
     */
    delivered (room: string, id: string, prev: string): void {
      const position = rooms.get(room)
      if (position === undefined) return
      // No previous id in the header (an instance of an older release published it): as delivered here.
      const recent = (position.recent ??= [])
      recent.push({ room, id, prev: prev === '' ? position.last : prev, seq: ++seq })
      if (recent.length > recentPerRoom) recent.shift()
      position.last = id
    },
    /** The newest delivery to any of these rooms: the offset a reply to a socket in them carries. */
    newest (of: Iterable<string>): Delivery | undefined {
      let best: (Delivery & { seq: number }) | undefined
      for (const room of of) {
        const recent = rooms.get(room)?.recent
        const last = recent?.[recent.length - 1]
        if (last !== undefined && (best === undefined || last.seq > best.seq)) best = last
      }
      return best
    },
    /** What a leaving socket's session keeps of the rooms it is in. */
    snapshot (of: Iterable<string>, recentMax: number): PositionSnapshot {
      const positions: Record<string, string> = {}
      const recent: Array<Delivery & { seq: number }> = []
      for (const room of of) {
        const position = rooms.get(room)
        if (position === undefined) continue
        positions[room] = position.last
        if (position.recent !== undefined) recent.push(...position.recent)
      }
      recent.sort((a, b) => a.seq - b.seq)
      return { positions, recent: recent.slice(-recentMax).map(({ room, id, prev }) => ({ room, id, prev })) }
    }
  }
}

export type Positions = ReturnType<typeof createPositions>

/**
 * Per room, the newest log id the client received, from the offset it sent: deliveries after the
 * offset's were written but lost with the connection, so each such room is back at the id before
 * its first lost one. Null when the offset is not among the recent deliveries (nothing can be
 * known) or a room's position is unknown.
 */
export function receivedPositions (snapshot: PositionSnapshot, matches: (d: Delivery) => boolean): Record<string, string> | null {
  const at = snapshot.recent.findIndex(matches)
  if (at === -1) return null
  const received = { ...snapshot.positions }
  const lost = new Set<string>()
  for (const delivery of snapshot.recent.slice(at + 1)) {
    if (lost.has(delivery.room)) continue
    lost.add(delivery.room)
    received[delivery.room] = delivery.prev
  }
  return Object.values(received).includes(UNKNOWN) ? null : received
}
