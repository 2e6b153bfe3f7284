/**
 * Every workaround of a Socket.IO behaviour in one place, each naming what it works around
 * upstream, so that an upgrade knows what to re-check and what to delete.
 */
import type { Redis } from 'ioredis'
import type { RedisClient } from '../store/cluster.js'
import type { Namespace, Server, ServerOptions, Socket } from 'socket.io'
import { createAdapter } from '@socket.io/redis-streams-adapter'
import { Adapter, SessionAwareAdapter, type BroadcastOptions } from 'socket.io-adapter'
import { compactRooms } from './room-members.js'

/** What SessionAwareAdapter keeps of a broadcast for connection state recovery (a private field), and its size. */
interface StoredPacket { id: string, opts: BroadcastOptions, data: unknown[], emittedAt: number, size?: number }

/** What connection state recovery keeps, per namespace (CONTRACT §10): the oldest go first. */
export interface RecoveryLimits { maxPackets: number, maxBytes: number }

/**
 * A broadcast whose audience is exactly one socket of this instance: a reply (an error, `joined_*`,
 * `room:state`…, and every `socket.emit`, which with recovery on goes through the adapter). It is
 * written to the socket and not kept for recovery (NOTES.md): one client's flood of replies must
 * not fill, or in Redis evict, what other clients need to recover. It still carries the newest
 * offset the namespace delivered (all before it was delivered first), so that a socket that only
 * ever got replies can recover; until there is one, a reply is stored as before.
 */
export function toOneLocalSocket (nsp: Namespace, opts: BroadcastOptions): boolean {
  if (opts.rooms.size !== 1 || (opts.except !== undefined && opts.except.size > 0)) return false
  const [only] = opts.rooms
  return nsp.sockets.has(only)
}

interface OutgoingPacket { type?: number, id?: number, data: unknown[] }

/** Appends `offset` as recovery would to a packet it keeps (an event without an ack, not volatile). */
function withOffset (packet: OutgoingPacket, opts: BroadcastOptions, offset: string): void {
  if (packet.type === 2 && packet.id === undefined && opts.flags?.volatile === undefined) packet.data.push(offset)
}

/** Redis stream ids (`ms-seq`) in order. */
function streamIdAfter (a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number)
  const [bm, bs] = b.split('-').map(Number)
  return am > bm || (am === bm && as > bs)
}

// Shared by every stored broadcast sent to everyone, or excepting no one: recovery only reads them.
const NO_ROOMS: Set<string> = new Set()
const TO_EVERYONE: BroadcastOptions = { rooms: NO_ROOMS, except: NO_ROOMS }

/** The options recovery reads (`rooms`, `except`), with the shared empty set where one is empty. */
function storedOptions (opts: BroadcastOptions): BroadcastOptions {
  const rooms = opts.rooms.size === 0 ? NO_ROOMS : opts.rooms
  const except = opts.except === undefined || opts.except.size === 0 ? NO_ROOMS : opts.except
  return rooms === NO_ROOMS && except === NO_ROOMS ? TO_EVERYONE : { rooms, except }
}

/**
 * The in-memory adapter with connection state recovery, whose close() also stops the cleanup
 * interval its constructor starts: socket.io-adapter 2.5's close() is a no-op, so every child
 * namespace Socket.IO dropped once empty (`/public-room/:id`, cleanupEmptyChildNamespaces) stayed
 * reachable from its timer, with its adapter, forever (found by the soak: bench/soak.ts).
 * Upstream: socket.io closes a dropped child's adapter since https://github.com/socketio/socket.io/pull/4602,
 * but socket.io-adapter's SessionAwareAdapter never clears the interval its constructor starts.
 */
export class ClosableSessionAwareAdapter extends SessionAwareAdapter {
  private timers: NodeJS.Timeout[]
  /** Overridden by boundedSessionAwareAdapter; these are the defaults. */
  protected limits: RecoveryLimits = { maxPackets: 10_000, maxBytes: 16 * 1024 * 1024 }
  /** The stored packets' sizes summed, and how many were stored when it was last summed. */
  private storedBytes = 0
  private countedPackets = 0
  /** Length of the broadcast under way's encoding (a string packet); -1 when binary or none. */
  private encodedLength = -1

  constructor (nsp: Namespace) {
    // The constructor keeps no handle on its timer: record the intervals it starts (synchronously).
    const timers: NodeJS.Timeout[] = []
    const original = globalThis.setInterval
    globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
      const timer = original(...args)
      timers.push(timer)
      return timer
    }) as typeof setInterval
    try {
      super(nsp)
    } finally {
      globalThis.setInterval = original
    }
    this.timers = timers
    compactRooms(this)
    // The broadcast's wire encoding (made once for all its sockets) sizes what is stored: no
    // second JSON encode per broadcast. `_encode` is private in the typings, hence no override.
    const self = this as unknown as { _encode: (packet: unknown, opts: unknown) => unknown[] }
    const encode = self._encode
    self._encode = (packet, opts) => {
      const encoded = encode.call(this, packet, opts)
      this.encodedLength = encoded.length === 1 && typeof encoded[0] === 'string' ? encoded[0].length : -1
      return encoded
    }
  }

  /**
   * Every broadcast is kept for maxDisconnectionDuration (2 min), so that a socket that comes
   * back gets what it missed. The library keeps the options it was sent with (two Sets, most
   * often empty, and flags recovery never reads) and the data array grown by the offset pushed
   * on it (room for 16 more): about 760 bytes a broadcast, where these take about 220. With every
   * user who comes online announced to all of `/`, that was a connection's largest cost.
   */
  override broadcast (packet: OutgoingPacket, opts: BroadcastOptions): void {
    const stored = (this as unknown as { packets: StoredPacket[] }).packets
    const newest = stored[stored.length - 1]
    if (newest !== undefined && toOneLocalSocket(this.nsp, opts)) {
      withOffset(packet, opts, newest.id)
      Adapter.prototype.broadcast.call(this, packet as Parameters<Adapter['broadcast']>[0], opts)
      return
    }
    const count = stored.length
    this.encodedLength = -1
    super.broadcast(packet, opts)
    if (stored.length === count) return
    const last = stored[stored.length - 1]
    last.opts = storedOptions(opts)
    last.data = last.data.slice()
    // The encoding is the stored data as JSON plus the packet type (and a namespace prefix).
    last.size = this.encodedLength >= 0 ? this.encodedLength : JSON.stringify(last.data).length
    this.bound(stored, count, last.size)
  }

  /**
   * Drops the oldest stored packets beyond the limits (the library only drops them after 2 min).
   * Once over a limit, a 64th of it (at least one packet) more goes too: at a steady rate the store stays full, and
   * dropping one packet per broadcast moved the whole array (10,000 entries) on every broadcast
   * (issue 23: 2 % of roomwire's CPU in many rooms of 10). What is kept stays within the limits.
   */
  private bound (stored: StoredPacket[], countBefore: number, added: number): void {
    // The library's minute timer drops expired packets from the front: sum again after it did.
    if (countBefore !== this.countedPackets) this.storedBytes = stored.reduce((sum, p) => sum + (p.size ?? 0), 0) - added
    this.storedBytes += added
    let excess = 0
    let bytes = this.storedBytes
    const over = (packets: number, size: number) => stored.length - excess > packets || (bytes > size && stored.length - excess > 1)
    while (over(this.limits.maxPackets, this.limits.maxBytes)) {
      bytes -= stored[excess].size ?? 0
      excess++
    }
    if (excess > 0) {
      const { maxPackets, maxBytes } = this.limits
      const packets = Math.max(1, maxPackets - Math.max(1, Math.floor(maxPackets / 64)))
      const size = maxBytes - Math.floor(maxBytes / 64)
      while (over(packets, size)) {
        bytes -= stored[excess].size ?? 0
        excess++
      }
    }
    if (excess > 0) stored.splice(0, excess)
    this.storedBytes = bytes
    this.countedPackets = stored.length
  }

  override close (): void {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    super.close()
  }
}

/** The in-memory recovery adapter keeping at most `limits` per namespace. */
export function boundedSessionAwareAdapter (limits: RecoveryLimits): typeof ClosableSessionAwareAdapter {
  return class BoundedSessionAwareAdapter extends ClosableSessionAwareAdapter {
    protected override limits = limits
  }
}

type StreamsOptions = NonNullable<Parameters<typeof createAdapter>[1]> & { channelPrefix: string }
type Listener = (...args: unknown[]) => void

/**
 * The Redis Streams adapter, whose close() undoes what it set up for its namespace:
 * @socket.io/redis-streams-adapter 0.3.1 subscribes every namespace's adapter to the namespace's
 * channel and its own, with a `messageBuffer` listener on the shared subscriber client, and never
 * removes either. Every `/public-room/:id` namespace dropped once empty (and every made-up room
 * id) left a listener holding its namespace, a subscription, and work on every pub/sub message
 * (found by the soak: bench/soak.ts). The listeners are recorded as the library adds them (a
 * `subscribe` then, synchronously, its `on('messageBuffer')`), and dropped on close().
 * Upstream: the same leak in @socket.io/redis-adapter was https://github.com/socketio/socket.io-redis-adapter/issues/480
 * (fixed there by https://github.com/socketio/socket.io-redis-adapter/pull/485); the streams adapter has no such close().
 */
export function closableStreamsAdapter (redisClient: RedisClient, options: StreamsOptions): ServerOptions['adapter'] {
  // A Cluster's duplicate, subscribe, on('messageBuffer') and unsubscribe behave as one Redis's here.
  const client = redisClient as Redis
  const listeners = new Map<string, { subscriber: Redis, listener: Listener }>()
  /** Adapters closed before their subscription was made: channel list → channels to drop. */
  const closedEarly = new Map<string, string[]>()
  let pending: string | null = null
  const duplicate = client.duplicate
  // createAdapter duplicates the client (subscriber and stream readers) synchronously.
  client.duplicate = function (this: Redis, ...args: Parameters<Redis['duplicate']>) {
    const copy = duplicate.apply(this, args)
    const subscribe = copy.subscribe as (...a: unknown[]) => Promise<unknown>
    copy.subscribe = function (this: Redis, ...channels: unknown[]) {
      pending = channels.flat().join('\n')
      return subscribe.apply(this, channels)
    } as Redis['subscribe']
    const on = copy.on as (event: string | symbol, listener: Listener) => Redis
    copy.on = function (this: Redis, event: string | symbol, listener: Listener) {
      if (event === 'messageBuffer' && pending !== null) {
        const key = pending
        pending = null
        const drop = closedEarly.get(key)
        if (drop) {
          closedEarly.delete(key)
          copy.unsubscribe(...drop).catch(() => {})
          return copy
        }
        listeners.set(key, { subscriber: copy, listener })
      }
      return on.call(this, event, listener)
    } as Redis['on']
    return copy
  } as Redis['duplicate']
  let factory: ReturnType<typeof createAdapter>
  try {
    factory = createAdapter(client, options)
  } finally {
    client.duplicate = duplicate
  }
  const open = new Map<string, number>()
  // Socket.IO calls it with `new`: a function returning the adapter, not an arrow function.
  return function (nsp: Namespace) {
    const adapter = factory(nsp) as ReturnType<typeof factory> & { uid: string }
    // A reply to one socket of this instance is written locally: no XADD, nothing kept for recovery.
    const recovering = adapter as unknown as { addOffsetIfNecessary: (p: OutgoingPacket, o: BroadcastOptions, offset: string) => void }
    const addOffset = recovering.addOffsetIfNecessary
    let newest: string | undefined
    recovering.addOffsetIfNecessary = function (packet, opts, offset) {
      // Called as each broadcast (local or from the stream) is delivered here.
      if (newest === undefined || streamIdAfter(offset, newest)) newest = offset
      addOffset.call(this, packet, opts, offset)
    }
    const broadcast = adapter.broadcast
    adapter.broadcast = function (packet, opts) {
      if (newest === undefined || !toOneLocalSocket(nsp, opts)) return broadcast.call(this, packet, opts)
      withOffset(packet as OutgoingPacket, opts, newest)
      return broadcast.call(this, packet, { ...opts, flags: { ...opts.flags, local: true } })
    }
    open.set(nsp.name, (open.get(nsp.name) ?? 0) + 1)
    const close = adapter.close
    adapter.close = () => {
      const publicChannel = `${options.channelPrefix}#${nsp.name}#`
      const privateChannel = `${publicChannel}${adapter.uid}#`
      const key = `${publicChannel}\n${privateChannel}`
      const others = (open.get(nsp.name) ?? 1) - 1
      if (others > 0) open.set(nsp.name, others)
      else open.delete(nsp.name)
      // The namespace's channel stays while another adapter of the same name is open.
      const channels = others > 0 ? [privateChannel] : [publicChannel, privateChannel]
      const found = listeners.get(key)
      if (found) {
        listeners.delete(key)
        found.subscriber.off('messageBuffer', found.listener)
        found.subscriber.unsubscribe(...channels).catch(() => {})
      } else {
        closedEarly.set(key, channels)
      }
      return close.call(adapter)
    }
    return adapter
  } as unknown as ServerOptions['adapter']
}

/**
 * Every namespace of the server, dynamic children included. `io.local` and `io.disconnectSockets`
 * only cover `/` (https://github.com/socketio/socket.io/issues/3570), and Socket.IO lists its
 * namespaces only in `_nsps` (typed, but underscored: re-check on upgrade).
 */
export function namespacesOf (io: Server): Namespace[] {
  return [...io._nsps.values()]
}

/** The child namespaces of a parent (dynamic) namespace: Socket.IO keeps them in a private set. */
export function childNamespacesOf (parent: Namespace): Namespace[] {
  const children = (parent as unknown as { children?: Set<Namespace> }).children
  return children === undefined ? [] : [...children]
}

/** The sockets connected to this instance through `nsp`, or through its children when it is a parent. */
export function localSocketsOf (nsp: Namespace) {
  const children = (nsp as unknown as { children?: Set<Namespace> }).children
  return children === undefined ? [...nsp.sockets.values()] : [...children].flatMap(c => [...c.sockets.values()])
}

/**
 * Drops an empty child namespace of `parent` as `cleanupEmptyChildNamespaces` would
 * (https://github.com/socketio/socket.io/pull/4602), for a server that runs with the option off,
 * and for a socket refused after its handshake (https://github.com/socketio/socket.io/issues/4772):
 * made-up names must not grow the server's memory. False when it was not dropped (not empty,
 * already gone, or Socket.IO's own cleanup is on and will do it).
 */
export function dropEmptyChildNamespace (io: Server, parent: Namespace, nsp: Namespace): boolean {
  if (nsp.sockets.size > 0) return false
  if (io._opts.cleanupEmptyChildNamespaces === true || io._nsps.get(nsp.name) !== nsp) return false
  nsp.adapter.close()
  io._nsps.delete(nsp.name)
  ;(parent as unknown as { children: Set<Namespace> }).children.delete(nsp)
  return true
}

/** Sees one packet written to a socket: true when it took the packet over (held or wrote it itself). */
export interface OutgoingTake {
  take (args: unknown[], encoded: unknown, opts: unknown): boolean
}

interface EngineClient { writeToEngine (encoded: unknown, opts: unknown): void }
interface Interception { takers: Set<OutgoingTake>, pending: unknown[] | undefined, listener: (...args: unknown[]) => void }
const intercepted = new WeakMap<Socket, Interception>()

/** Writes an encoded packet to the socket's connection, past any interception. */
export function writeToEngine (socket: Socket, encoded: unknown, opts: unknown): void {
  const client = socket.client as unknown as EngineClient
  ;(Object.getPrototypeOf(client) as EngineClient).writeToEngine.call(client, encoded, opts)
}

/**
 * Socket.IO has no outgoing middleware (`onAnyOutgoing` listeners cannot hold or drop a packet): every
 * packet an adapter writes to a socket (local or from another instance) goes
 * `socket.notifyOutgoingListeners(packet)` then, synchronously, `socket.client.writeToEngine(encoded)`.
 * This listens to the first to know what the second writes, and shadows the second on that client
 * (an own property) while a taker is registered. Re-check both on a Socket.IO upgrade (4.8:
 * socket.js `notifyOutgoingListeners`, client.js `writeToEngine`). Returns the function that stops it.
 */
export function interceptOutgoing (socket: Socket, taker: OutgoingTake): () => void {
  let state = intercepted.get(socket)
  if (state === undefined) {
    const client = socket.client as unknown as EngineClient
    const created: Interception = { takers: new Set(), pending: undefined, listener: (...args) => { created.pending = args } }
    socket.onAnyOutgoing(created.listener)
    client.writeToEngine = function (encoded, opts) {
      const args = created.pending
      created.pending = undefined
      if (args !== undefined) {
        for (const t of created.takers) if (t.take(args, encoded, opts)) return
      }
      writeToEngine(socket, encoded, opts)
    }
    intercepted.set(socket, (state = created))
  }
  const active = state
  active.takers.add(taker)
  return () => {
    active.takers.delete(taker)
    if (active.takers.size > 0 || intercepted.get(socket) !== active) return
    socket.offAnyOutgoing(active.listener)
    delete (socket.client as unknown as Partial<EngineClient>).writeToEngine
    intercepted.delete(socket)
  }
}

/**
 * `socket.onAny(listener)` without the spare room: Socket.IO 4 pushes onto its private
 * `_anyListeners` array, for which V8 then reserves 17 slots (152 bytes, kept by every
 * connection). Here the list is replaced by an exact-length copy with the listener appended
 * (`concat`), the same list for Socket.IO, which reads the field on every event and copies it
 * before calling. Every catch-all listener of a busy namespace should be added this way: one
 * plain `onAny` on the socket brings the spare room back.
 */
export function addAnyListener (socket: Socket, listener: Parameters<Socket['onAny']>[0]): void {
  const internals = socket as unknown as { _anyListeners?: unknown }
  const current = internals._anyListeners
  if (current === undefined) internals._anyListeners = [listener]
  else if (Array.isArray(current)) internals._anyListeners = current.concat(listener)
  else socket.onAny(listener)
}
