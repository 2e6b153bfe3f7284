/**
 * Per-room sharded fan-out (CONTRACT §12): a Socket.IO adapter on Redis 7 sharded pub/sub in which
 * an instance subscribes to a room's channel only while it has local members of the room, so what
 * it receives scales with the rooms it serves; broadcasts to everyone, to several rooms, and the
 * requests between instances use the namespace's channel. Built on socket.io-adapter's
 * ClusterAdapter (as @socket.io/redis-adapter's sharded adapter, whose design it follows with
 * `subscriptionMode: 'dynamic'`), with connection state recovery, which that adapter lacks: every
 * kept broadcast is appended to its room's capped log and published in one script (scripts.ts),
 * delivered here only as Redis hands it back (so a room's broadcasts reach the sockets in the log's
 * order, this instance's own included), and a leaving socket's session is stored in Redis, so a
 * client reconnecting to any instance is replayed what it missed (restore.ts).
 */
import type { Cluster, Redis } from 'ioredis'
import type { Namespace } from 'socket.io'
import { Adapter, ClusterAdapter, MessageType, type BroadcastOptions, type ClusterMessage, type ClusterResponse, type Session } from 'socket.io-adapter'
import { compactRooms } from '../room-members.js'
import { toOneLocalSocket } from '../workarounds.js'
import { compareIds, instanceIn, looksLikeSocketId, offsetOf, responseChannel, roomChannel, roomLog, roomOf, sessionKey } from './names.js'
import { UNKNOWN, createPositions, type PositionSnapshot } from './positions.js'
import { createReplayed } from './replayed.js'
import { decodeOptions, encodeOptions, missedBroadcasts, reaches, receivedFrom, takeSession, type BroadcastMessage, type Missed, type RedisClient, type StoredSession } from './restore.js'
import type { WithPublishKept } from './scripts.js'
import type { FanoutStats, Subscriptions } from './subscriptions.js'

export interface ShardedAdapterOptions {
  /** REDIS_KEY_PREFIX: channels, logs and sessions all start with it. */
  prefix: string
  /** Most entries of one room's recovery log (MAXLEN ~), and most replayed from it. */
  maxPerRoom: number
  /** Deliveries remembered per local room to tell what a client really received. */
  recentPerRoom: number
  /** Deliveries a stored session keeps (over all its rooms). */
  recentPerSession: number
  /**
   * This server's instance id (src/instance), used as the adapter's uid: the channel on which it
   * receives answers is then also where broadcasts to sockets known to be on it arrive.
   */
  instanceId?: string
  /** How long a kept broadcast waits for its echo at most (default ECHO_WAIT_MS). */
  echoWaitMs?: number
}

/** How long a kept broadcast waits to come back from Redis before its publish resolves anyway. */
const ECHO_WAIT_MS = 2_000
const EARLY_MAX = 1_000

interface Packet { type: number, id?: number, data: unknown[], nsp?: string }
/** Kept broadcasts delivered to rooms a socket being restored was in, while it is restored. */
interface Capture { rooms: Set<string>, missed: Array<Missed & { opts: BroadcastMessage['data']['opts'] }> }

/** One kept broadcast among this instance's: its room and its id in the room's log. */
const echoKey = (room: string, id: string): string => `${id}\n${room}`

export class ShardedAdapter extends ClusterAdapter {
  private readonly positions
  private readonly handler = (message: Buffer, channel: string) => { this.onRawMessage(message, channel) }
  private readonly captures = new Set<Capture>()
  /** Rooms kept subscribed for sockets being restored, before they join them. */
  private readonly held = new Map<string, number>()
  /** Subscriptions of joins still waiting for Redis' answer (a remote fetch waits for them). */
  private readonly following = new Set<Promise<void>>()
  /**
   * This instance's kept broadcasts waiting until Redis hands them back here, by room and log id
   * (echoKey): a log id alone is not unique, as every room has its own log and two rooms' logs
   * written in the same millisecond give the same id.
   */
  private readonly echoes = new Map<string, () => void>()
  /** Own kept broadcasts handed back before their publish answered (the subscriber was quicker), by echoKey. */
  private readonly early = new Set<string>()
  /**
   * Rooms whose broadcasts this instance did not receive (a gap in the log's chain of ids) are
   * being read from the room's log: the broadcasts that arrive meanwhile wait here, in order.
   */
  private readonly filling = new Map<string, Array<() => void>>()
  /** Sockets restored here with more of a room's log than this instance wrote to it (replayed.ts). */
  private readonly replayed = createReplayed()
  /** Echo waits this long at most (ECHO_WAIT_MS; tests set it longer, so that a lost echo shows). */
  private readonly echoWaitMs: number
  private closed = false
  /** The namespace's channel and this adapter's response channel, subscribed (Redis answered). */
  private readonly ready: Promise<void>
  private subscribed = false

  constructor (
    nsp: Namespace,
    private readonly client: RedisClient & WithPublishKept,
    private readonly subscriptions: Subscriptions,
    private readonly stats: FanoutStats,
    private readonly options: ShardedAdapterOptions
  ) {
    super(nsp)
    compactRooms(this)
    if (options.instanceId !== undefined) (this as unknown as { uid: string }).uid = options.instanceId
    this.positions = createPositions(options.recentPerRoom)
    this.echoWaitMs = options.echoWaitMs ?? ECHO_WAIT_MS
    // Socket.IO does not wait for an adapter: what needs these channels waits for `ready` itself
    // (a join, a publish), so a namespace made on the fly (a public room's) misses nothing at first.
    // Bounded as an echo is: on a hung Redis (the subscriber has no command timeout) the namespace's
    // work goes on, and fails as its commands do.
    const subscribed = Promise.all([this.subscriptions.add(this.responseChannelName(), this.handler), this.follow('')])
      .then(() => { this.subscribed = true })
    this.ready = Promise.race([subscribed, new Promise<void>((resolve) => { setTimeout(resolve, ECHO_WAIT_MS).unref() })])
    this.on('create-room', (room: string) => { if (!this.sids.has(room)) this.follow(room) })
    this.on('delete-room', (room: string) => { if (!this.sids.has(room) && !this.held.has(room)) this.unfollow(room) })
  }

  private get recovering (): boolean {
    return Boolean(this.nsp.server.opts.connectionStateRecovery)
  }

  /** How long logs and sessions are kept: maxDisconnectionDuration. */
  private get ttl (): number {
    return this.nsp.server.opts.connectionStateRecovery?.maxDisconnectionDuration ?? 120_000
  }

  private channel (room: string): string {
    return roomChannel(this.options.prefix, this.nsp.name, room)
  }

  private responseChannelName (): string {
    return responseChannel(this.options.prefix, this.nsp.name, this.uid)
  }

  /** Subscribes to a room's channel and reads where its log starts for this instance. */
  private follow (room: string): Promise<void> {
    if (this.positions.has(room)) return this.subscriptions.add(this.channel(room), this.handler)
    this.positions.open(room)
    const ready = this.subscriptions.add(this.channel(room), this.handler)
    ready.then(() => this.client.xrevrange(roomLog(this.options.prefix, this.nsp.name, room), '+', '-', 'COUNT', 1))
      .then((newest) => { this.positions.start(room, newest[0]?.[0] ?? '0-0') }, () => {})
    return ready
  }

  private unfollow (room: string): void {
    if (room === '' || this.closed) return
    this.positions.close(room)
    this.replayed.forget(room)
    this.subscriptions.remove(this.channel(room), this.handler)
  }

  /** A join resolves once this instance receives the rooms' broadcasts (the SSUBSCRIBE answered). */
  override addAll (id: string, rooms: Set<string>): Promise<void> | void {
    const fresh = [...rooms].filter(room => room !== id && !this.rooms.has(room))
    super.addAll(id, rooms)
    const pending = fresh.filter(room => !this.sids.has(room)).map(room => this.follow(room))
    if (!this.subscribed) pending.push(this.ready)
    if (pending.length === 0) return
    const all = Promise.all(pending).then(() => {})
    const tracked = all.catch(() => {})
    this.following.add(tracked)
    tracked.then(() => { this.following.delete(tracked) }).catch(() => {})
    return all
  }

  /**
   * Messages of other instances. A SOCKETS_JOIN makes local sockets join rooms this instance may
   * not follow yet; a FETCH_SOCKETS after it is answered once those subscriptions are confirmed,
   * so an instance that joins remote sockets and then asks (the outbox's `joinRemote`) knows
   * that what it broadcasts next reaches them.
   */
  override onMessage (message: ClusterMessage, offset?: string): void {
    if (message.type === MessageType.FETCH_SOCKETS && this.following.size > 0) {
      Promise.all([...this.following]).then(() => { super.onMessage(message, offset) }, () => {})
      return
    }
    super.onMessage(message, offset)
  }

  /** Resolves when a kept broadcast of this instance came back from Redis (or after `echoWaitMs`). */
  private echoOf (room: string, id: string): Promise<void> | undefined {
    const key = echoKey(room, id)
    if (this.early.delete(key)) return
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.echoes.delete(key); resolve() }, this.echoWaitMs)
      this.echoes.set(key, () => { clearTimeout(timer); resolve() })
    })
  }

  /** Kept for recovery: an event without ack, not volatile (as socket.io-adapter decides). */
  private keeps (packet: Packet, opts: BroadcastOptions): boolean {
    return this.recovering && packet.type === 2 && packet.id === undefined && opts.flags?.volatile === undefined
  }

  override async broadcast (packet: Packet, opts: BroadcastOptions): Promise<void> {
    if (opts.flags?.local === true) return await super.broadcast(packet, opts)
    // A reply to one socket here is written to it, not kept (CONTRACT §10), with its rooms' newest
    // offset: none while the socket's client has more of a log than this instance wrote (replayed).
    if (toOneLocalSocket(this.nsp, opts)) {
      const sid = [...opts.rooms][0]
      const newest = this.keeps(packet, opts) && !this.replayed.ahead(sid) ? this.positions.newest(['', ...(this.sids.get(sid) ?? [])]) : undefined
      if (newest !== undefined) packet.data.push(offsetOf(newest.room, newest.id))
      return Adapter.prototype.broadcast.call(this, packet, opts)
    }
    // Sockets all on one instance (the outbox's marker room): sent on that instance's channel only, not kept.
    const instance = instanceIn(opts.rooms)
    if (instance === this.uid) return Adapter.prototype.broadcast.call(this, packet, opts)
    const encoded = JSON.stringify(this.messageOf(packet, opts))
    this.stats.published++
    if (instance !== undefined) {
      await this.client.spublish(responseChannel(this.options.prefix, this.nsp.name, instance), `\n${encoded}`).catch(() => {})
      return
    }
    // A broadcast to everyone or to several rooms comes back on the namespace's channel only.
    if (!this.subscribed) await this.ready
    const room = roomOf(opts.rooms)
    try {
      if (this.keeps(packet, opts) && !looksLikeSocketId(room)) {
        const log = roomLog(this.options.prefix, this.nsp.name, room)
        // Delivered here too when Redis hands it back, in the log's order (onRawMessage).
        const id = await this.client.roomwirePublishKept(log, this.channel(room), encoded, this.options.maxPerRoom, this.ttl, offsetOf(room, ''))
        // Resolved once this instance's own sockets have it: a broadcast, then a leave, keeps its order.
        if (this.rooms.has(room)) await this.echoOf(room, String(id))
        return
      }
      // Not kept (volatile, or one remote socket: the namespace's channel): published, and written here now.
      await this.client.spublish(this.channel(looksLikeSocketId(room) ? '' : room), `\n${encoded}`)
    } catch {
      // Redis failed: this instance's sockets still get it (as ClusterAdapter does), not kept.
    }
    Adapter.prototype.broadcast.call(this, packet, opts)
  }

  private messageOf (packet: Packet, opts: BroadcastOptions): BroadcastMessage {
    return { uid: this.uid, nsp: this.nsp.name, type: MessageType.BROADCAST, data: { packet: { type: packet.type, data: packet.data }, opts: encodeOptions(opts) } }
  }

  private onRawMessage (raw: Buffer, channel: string): void {
    const isResponse = channel === this.responseChannelName()
    if (isResponse || channel === this.channel('')) this.stats.received.namespace++
    else this.stats.received.room++
    const text = raw.toString()
    const newline = text.indexOf('\n')
    let message: { uid: string, nsp: string, type: number, data?: { requestId?: string } }
    try {
      message = JSON.parse(text.slice(newline + 1))
    } catch {
      return
    }
    if (message.nsp !== this.nsp.name) return
    // On this instance's own channel: answers to its requests, and broadcasts to sockets here.
    if (isResponse) return message.type === MessageType.BROADCAST ? this.deliver(message as BroadcastMessage, '', '') : this.onResponse(message as ClusterResponse)
    if (message.type !== MessageType.BROADCAST || message.data?.requestId !== undefined) return this.onMessage(message as ClusterMessage)
    // A kept broadcast's header: its offset, a space, the log's id before it (scripts.ts).
    const header = text.slice(0, newline)
    if (header === '' && message.uid === this.uid) return
    const space = header.indexOf(' ')
    this.deliver(message as BroadcastMessage, space === -1 ? header : header.slice(0, space), space === -1 ? '' : header.slice(space + 1))
  }

  /** Writes a broadcast from Redis to this instance's sockets; a kept one with its offset. */
  private deliver (message: BroadcastMessage, offset: string, prev: string): void {
    const { packet } = message.data
    const opts = decodeOptions(message.data.opts)
    if (offset !== '') {
      const room = roomOf(opts.rooms)
      const id = offset.slice(0, offset.indexOf('~'))
      const waiting = this.filling.get(room)
      if (waiting !== undefined) {
        waiting.push(() => { this.deliverKept(message, opts, room, id, offset, prev) })
        return
      }
      const last = this.positions.last(room)
      // The log's entry before this one is newer than the last written here: what is between was
      // published while this instance's subscription was down (a reconnect, a failover). Read it
      // from the log, write it first, then this.
      if (last !== undefined && last !== UNKNOWN && prev !== '' && compareIds(prev, last) > 0) {
        this.fill(room, last, prev, () => { this.deliverKept(message, opts, room, id, offset, prev) })
        return
      }
      this.deliverKept(message, opts, room, id, offset, prev)
      return
    }
    Adapter.prototype.broadcast.call(this, packet, opts)
  }

  /** Reads a room's log after `last` up to `upTo` and writes it to the room's sockets, then what waited. */
  private fill (room: string, last: string, upTo: string, next: () => void): void {
    const waiting = [next]
    this.filling.set(room, waiting)
    const log = roomLog(this.options.prefix, this.nsp.name, room)
    this.client.xrange(log, `(${last}`, upTo).then((entries) => {
      let prev = last
      for (const [id, fields] of entries) {
        let message: BroadcastMessage | undefined
        try { message = JSON.parse(fields[1]) as BroadcastMessage } catch { /* a damaged entry is skipped; the chain goes on from it */ }
        if (message !== undefined) {
          this.stats.filled++
          this.deliverKept(message, decodeOptions(message.data.opts), room, id, offsetOf(room, id), prev)
        }
        prev = id
      }
    }, () => {
      // Redis failed the read: what it held is not written here; the waiting broadcasts still are.
    }).finally(() => {
      this.filling.delete(room)
      for (const deliver of waiting) deliver()
    })
  }

  /** Writes a kept broadcast of `room` (log id `id`) to this instance's sockets. */
  private deliverKept (message: BroadcastMessage, opts: BroadcastOptions, room: string, id: string, offset: string, prev: string): void {
    const { packet } = message.data
    this.positions.delivered(room, id, prev)
    for (const capture of this.captures) {
      if (capture.rooms.has(room)) capture.missed.push({ room, id, data: [...packet.data, offset], opts: message.data.opts })
    }
    packet.data.push(offset)
    Adapter.prototype.broadcast.call(this, packet, this.replayed.optionsFor(room, id, opts, this.rooms.get(room)))
    if (message.uid === this.uid) this.echoed(echoKey(room, id))
  }

  private echoed (key: string): void {
    const waiter = this.echoes.get(key)
    if (waiter) {
      this.echoes.delete(key)
      waiter()
      return
    }
    this.early.add(key)
    // Bounded: an echo nobody waits for (no local member when it was published) is forgotten.
    if (this.early.size > EARLY_MAX) this.early.delete(this.early.values().next().value as string)
  }

  override persistSession (session: Parameters<Adapter['persistSession']>[0]): void {
    const snapshot: PositionSnapshot = this.positions.snapshot(['', ...session.rooms], this.options.recentPerSession)
    const stored: StoredSession = { ...session, ...snapshot }
    this.client.set(sessionKey(this.options.prefix, this.nsp.name, session.pid), JSON.stringify(stored), 'PX', this.ttl).catch(() => {})
  }

  override async restoreSession (pid: string, offset: string): Promise<Session> {
    const deps = { client: this.client, prefix: this.options.prefix, nsp: this.nsp.name, maxPerRoom: this.options.maxPerRoom }
    const session = await takeSession(deps, pid)
    const received = session === null ? null : receivedFrom(session, offset)
    if (session === null || received === null) return null as unknown as Session
    const rooms = Object.keys(received)
    const capture: Capture = { rooms: new Set(rooms), missed: [] }
    this.captures.add(capture)
    for (const room of rooms) this.held.set(room, (this.held.get(room) ?? 0) + 1)
    try {
      // Subscribed before the logs are read: what is published meanwhile is in the log or captured.
      await Promise.all(rooms.map(room => this.follow(room)))
      const missed = await missedBroadcasts(deps, session, received)
      if (missed === null) return null as unknown as Session
      // Delivered here while the logs were read: those after the newest read of their room.
      const newestRead = new Map(Object.entries(received))
      for (const m of missed) newestRead.set(m.room, m.id)
      const sessionRooms = new Set(session.rooms)
      const live = capture.missed.filter(m => compareIds(m.id, newestRead.get(m.room) ?? '0-0') > 0 && reaches(sessionRooms, m.opts))
      const all = [...missed, ...live].sort((a, b) => compareIds(a.id, b.id))
      for (const [room, upTo] of newestRead) {
        const last = this.positions.last(room)
        this.replayed.restored(room, session.sid, upTo, last === UNKNOWN ? undefined : last)
      }
      const { positions: _positions, recent: _recent, ...rest } = session
      return { ...rest, missedPackets: all.map(m => m.data) } as unknown as Session
    } finally {
      this.captures.delete(capture)
      // Released after the restored socket joined its rooms (Socket.IO does it synchronously, next).
      setImmediate(() => { for (const room of rooms) this.release(room) })
    }
  }

  private release (room: string): void {
    const count = (this.held.get(room) ?? 1) - 1
    if (count > 0) { this.held.set(room, count); return }
    this.held.delete(room)
    if (!this.rooms.has(room)) this.unfollow(room)
  }

  override async serverCount (): Promise<number> {
    const channel = this.channel('')
    const nodes = this.client.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis]
    const counts = await Promise.all(nodes.map(node => node.call('PUBSUB', 'SHARDNUMSUB', channel) as Promise<[string, number]>))
    return counts.reduce((sum, [, n]) => sum + Number(n), 0)
  }

  protected override async doPublish (message: ClusterMessage): Promise<string> {
    // The answers come on the response channel, and are lost if it is not subscribed yet.
    if (!this.subscribed) await this.ready
    this.stats.published++
    await this.client.spublish(this.channel(''), `\n${JSON.stringify(message)}`)
    return ''
  }

  protected override async doPublishResponse (requesterUid: string, response: ClusterResponse): Promise<void> {
    await this.client.spublish(responseChannel(this.options.prefix, this.nsp.name, requesterUid), `\n${JSON.stringify(response)}`)
  }

  override close (): void {
    if (this.closed) return
    for (const room of [...this.rooms.keys(), ...this.held.keys()]) if (!this.sids.has(room)) this.subscriptions.remove(this.channel(room), this.handler)
    this.subscriptions.remove(this.channel(''), this.handler)
    this.subscriptions.remove(this.responseChannelName(), this.handler)
    this.closed = true
    this.captures.clear()
    for (const waiter of this.echoes.values()) waiter()
    this.echoes.clear()
  }
}
