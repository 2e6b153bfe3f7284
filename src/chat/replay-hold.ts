/**
 * Holds back the live messages of one room for one socket of this instance while a replay
 * (replay.ts) is written to it, so the replay comes first and nothing arrives twice.
 *
 * Socket.IO has no outgoing middleware: every packet an adapter writes to a socket (local or
 * from another instance) goes `socket.notifyOutgoingListeners(packet)` then, synchronously,
 * `socket.client.writeToEngine(encoded)`. The hold listens to the first to know what the second
 * writes, and shadows the second on that client while it lasts. Re-check both on a Socket.IO
 * upgrade (socket.io 4.8: socket.js `notifyOutgoingListeners`, client.js `writeToEngine`).
 */
import type { Socket } from 'socket.io'

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

interface EngineClient { writeToEngine (encoded: unknown, opts: unknown): void }
interface Held { seq: number, encoded: unknown, opts: unknown }
interface HoldState {
  /** true when the packet was taken over (held, or written with what it releases). */
  take (args: unknown[], encoded: unknown, opts: unknown): boolean
  end (): void
}
interface SocketHolds { holds: Set<HoldState>, pending: unknown[] | undefined, listener: (...args: unknown[]) => void }

const bySocket = new WeakMap<Socket, SocketHolds>()
// A hold whose `history:replayed` never went out (its publish failed) ends after this.
const HOLD_MAX_MS = 30_000

function install (socket: Socket): SocketHolds {
  const existing = bySocket.get(socket)
  if (existing) return existing
  const client = socket.client as unknown as EngineClient
  const state: SocketHolds = { holds: new Set(), pending: undefined, listener: (...args) => { state.pending = args } }
  const write = Object.getPrototypeOf(client).writeToEngine as EngineClient['writeToEngine']
  socket.onAnyOutgoing(state.listener)
  // An own property shadows the prototype's method for this client only; deleted when the last hold ends.
  client.writeToEngine = function (encoded, opts) {
    const args = state.pending
    state.pending = undefined
    if (args !== undefined) {
      for (const hold of state.holds) if (hold.take(args, encoded, opts)) return
    }
    write.call(client, encoded, opts)
  }
  bySocket.set(socket, state)
  return state
}

function uninstall (socket: Socket, state: SocketHolds): void {
  if (state.holds.size > 0) return
  socket.offAnyOutgoing(state.listener)
  delete (socket.client as unknown as Partial<EngineClient>).writeToEngine
  bySocket.delete(socket)
}

/** Starts holding the live messages `liveSeq` recognises, for this (local) socket. */
export function holdLiveMessages (socket: Socket, liveSeq: LiveSeq): ReplayHold {
  const state = install(socket)
  const client = socket.client as unknown as EngineClient
  const write = (encoded: unknown, opts: unknown) => { Object.getPrototypeOf(client).writeToEngine.call(client, encoded, opts) }
  const allowed = new WeakSet<object>()
  const held: Held[] = []
  let finish: { payload: object, upTo: number } | undefined
  let ended = false

  const hold: HoldState = {
    take (args, encoded, opts) {
      const payload = args[1]
      if (typeof payload === 'object' && payload !== null && allowed.has(payload)) return false
      if (finish !== undefined && payload === finish.payload) {
        write(encoded, opts)
        for (const h of held) if (h.seq > finish.upTo) write(h.encoded, h.opts)
        hold.end()
        return true
      }
      const seq = liveSeq(args[0], payload)
      if (seq === null) return false
      held.push({ seq, encoded, opts })
      return true
    },
    end () {
      if (ended) return
      ended = true
      clearTimeout(timer)
      socket.off('disconnect', onDisconnect)
      state.holds.delete(hold)
      uninstall(socket, state)
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
  state.holds.add(hold)

  return {
    allow (payload) { allowed.add(payload) },
    finishOn (payload, upTo) { finish = { payload, upTo } },
    release: releaseAll
  }
}
