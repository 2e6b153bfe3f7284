/**
 * Holds back the live messages of one room for one socket of this instance while a replay
 * (replay.ts) is written to it, so the replay comes first and nothing arrives twice.
 *
 * Socket.IO has no outgoing middleware: the hold sees and takes over what is written to the
 * socket through `interceptOutgoing` (src/socket/workarounds.ts).
 */
import type { Socket } from 'socket.io'
import { interceptOutgoing, writeToEngine, type OutgoingTake } from '../socket/workarounds.js'

/** The seq of a live message of the held room, or null for any other packet. */
export type LiveSeq = (event: unknown, payload: unknown) => number | null

export interface ReplayHold {
  /** This payload (a replayed message) is written through. */
  allow (payload: object): void
  /**
   * Once `payload` (the `history:replayed`) is written, the held live messages after `upTo`
   * follow in the order they came, those up to it (replayed, or older) are dropped, and the hold ends.
   */
  finishOn (payload: object, upTo: number): void
  /** Ends the hold, writing everything held (the replay failed). */
  release (): void
}

interface Held { seq: number, encoded: unknown, opts: unknown }

// A hold whose `history:replayed` never went out (its publish failed) ends after this.
const HOLD_MAX_MS = 30_000

/** Starts holding the live messages `liveSeq` recognises, for this (local) socket. */
export function holdLiveMessages (socket: Socket, liveSeq: LiveSeq): ReplayHold {
  const write = (encoded: unknown, opts: unknown) => { writeToEngine(socket, encoded, opts) }
  const allowed = new WeakSet<object>()
  const held: Held[] = []
  let finish: { payload: object, upTo: number } | undefined
  let ended = false
  /** `history:replayed` is out; live messages up to its `toSeq` are still dropped. */
  let draining = false

  const hold: OutgoingTake & { end: () => void } = {
    take (args, encoded, opts) {
      const payload = args[1]
      if (typeof payload === 'object' && payload !== null && allowed.has(payload)) return false
      if (finish !== undefined && payload === finish.payload) {
        write(encoded, opts)
        const later = held.filter((h) => h.seq > finish!.upTo)
        for (const h of later) write(h.encoded, h.opts)
        held.length = 0
        // The replay and `history:replayed` are written at once, but a live message of the room
        // (published before the replay read SQL) may still be on its way through the adapter: until
        // one after `upTo` arrives (a room's messages come in seq order), those up to it are dropped.
        draining = later.length === 0
        if (!draining) hold.end()
        return true
      }
      const seq = liveSeq(args[0], payload)
      if (seq === null) return false
      if (draining) {
        if (seq <= finish!.upTo) return true
        hold.end()
        return false
      }
      held.push({ seq, encoded, opts })
      return true
    },
    end () {
      if (ended) return
      ended = true
      clearTimeout(timer)
      socket.off('disconnect', onDisconnect)
      stopIntercepting()
    }
  }
  const onDisconnect = () => { hold.end() }
  const releaseAll = () => {
    if (ended) return
    hold.end()
    for (const h of held) write(h.encoded, h.opts)
  }
  const timer = setTimeout(releaseAll, HOLD_MAX_MS)
  timer.unref()
  socket.once('disconnect', onDisconnect)
  const stopIntercepting = interceptOutgoing(socket, hold)

  return {
    allow (payload) { allowed.add(payload) },
    finishOn (payload, upTo) { finish = { payload, upTo } },
    release: releaseAll
  }
}
