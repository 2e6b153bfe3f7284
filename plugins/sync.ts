import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Socket } from 'socket.io'
import { parseTrustProxy } from '../src/config.js'
import { AppError } from '../src/errors.js'
import { clientAddress, hashIp, trustFunction } from '../src/net.js'
import { createEventTable, on, registerEventTable } from '../src/socket/event-table.js'
import {
  JoinRoomPayloadSchema, LeaveRoomPayloadSchema, PlaybackUpdatePayloadSchema, SyncTimePayloadSchema,
  type JoinRoomPayload, type PlaybackUpdatePayload
} from '../src/contract/sync.js'
import type { Identity } from '../src/auth/identity.js'
import { createSyncRooms, type Connection, type Membership, type SyncRooms } from '../src/sync/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Watch-party rooms (CONTRACT §5): the domain service behind `/sync` and its REST routes. */
    syncRooms: SyncRooms
  }
}

export interface SyncPluginOptions {
  /** How often expired rooms and crashed instances are swept (default from the TTLs). */
  sweepIntervalMs?: number
  /** How often due reconnect graces are popped (default grace / 4, at most 1 s). */
  graceSweepMs?: number
}

export const SYNC_NAMESPACE = '/sync'
const channel = (roomId: string) => `sync:${roomId}`

/** Per connection: a fresh id (a recovered socket keeps its socket id, not this), the caller's
 * hashed IP, and the tail of its work queue. */
interface ConnectionState { connectionId: string, ipHash: string, tail: Promise<unknown> }

const notInRoom = () => new AppError('NOT_IN_ROOM', 'Join a room first')

/**
 * The `/sync` namespace (seed 002). Every room change of one socket runs in order (join, leave,
 * playback, disconnect), so a burst of events cannot give one socket two seats.
 * A socket that loses its transport keeps its seat for SYNC_RECONNECT_GRACE_MS; `room:leave`
 * and a deliberate client `disconnect()` give it up at once.
 */
export default fp<SyncPluginOptions>(async (app, opts) => {
  const config = app.realtimeConfig
  const trust = trustFunction(parseTrustProxy(config.trustProxy))
  const service = createSyncRooms({
    db: app.sql.db,
    store: app.store,
    instanceId: app.instanceId,
    ttlMs: config.syncRoomTtlMs,
    graceMs: config.syncReconnectGraceMs,
    instanceTtlMs: config.instanceTtlMs,
    passwordLimiter: app.limiters.create('sync-password', config.syncPasswordAttempts, config.syncPasswordWindowMs),
    isInstanceAlive: (id) => app.instances.isAlive(id),
    sweepIntervalMs: opts.sweepIntervalMs,
    graceSweepMs: opts.graceSweepMs,
    onError: (err) => { app.log.warn({ err }, 'sync background work failed') }
  })
  const nsp = app.io.of(SYNC_NAMESPACE)
  const connections = new WeakMap<Socket, ConnectionState>()
  const inflight = new Set<Promise<unknown>>()

  const connectionOf = (socket: Socket): Connection => ({ socketId: socket.id, connectionId: connections.get(socket)!.connectionId })
  const membershipData = (socket: Socket): Membership | undefined => socket.data.sync

  /** Runs `work` after the socket's earlier work; shutdown waits for it. */
  function serial<T> (socket: Socket, work: () => Promise<T>): Promise<T> {
    const state = connections.get(socket)!
    const result = state.tail.then(work)
    const settled = result.catch(() => {})
    state.tail = settled
    inflight.add(settled)
    settled.then(() => inflight.delete(settled), () => {})
    app.presenceHub.track(settled).catch(() => {})
    return result
  }

  async function forget (socket: Socket, membership: Membership): Promise<void> {
    delete socket.data.sync
    await socket.leave(channel(membership.roomId))
  }

  /** The socket's room, checked against the store (the room may be gone, or the seat swept). */
  async function membershipOf (socket: Socket): Promise<Membership | null> {
    const membership = membershipData(socket)
    if (membership === undefined) return null
    if (await service.isAttached(membership, connectionOf(socket))) return membership
    await forget(socket, membership)
    return null
  }

  async function join (socket: Socket, payload: JoinRoomPayload) {
    const result = await service.join({
      ...payload,
      identity: (socket.data.identity as Identity | null) ?? null,
      ipHash: connections.get(socket)!.ipHash,
      ...connectionOf(socket),
      current: await membershipOf(socket)
    })
    socket.data.sync = result.membership
    await socket.join(channel(result.membership.roomId))
    socket.emit('room:state', result.state)
    if (result.joined !== null) {
      socket.to(channel(result.membership.roomId)).emit('room:participant:joined', { participant: result.joined })
    }
    return { ok: true, ...result.state }
  }

  async function leave (socket: Socket) {
    const membership = await membershipOf(socket)
    if (membership === null) throw notInRoom()
    await service.leave(membership, connectionOf(socket))
    await forget(socket, membership)
  }

  async function updatePlayback (socket: Socket, update: PlaybackUpdatePayload) {
    const membership = await membershipOf(socket)
    if (membership === null) throw notInRoom()
    const playback = await service.updatePlayback(membership, update)
    nsp.to(channel(membership.roomId)).emit('playback:state', playback)
    return playback
  }

  /** Socket.IO recovered the socket (same id, rooms and data): take the seat back, resend the state. */
  async function resume (socket: Socket, membership: Membership) {
    const state = await service.resume(membership, connectionOf(socket))
    if (state !== null) {
      socket.emit('room:state', state)
      return
    }
    await forget(socket, membership)
    socket.emit('room:error', { code: 'NOT_IN_ROOM', message: 'You were away longer than the reconnect grace; join the room again' })
  }

  async function disconnected (socket: Socket, reason: string) {
    const membership = membershipData(socket)
    if (membership === undefined) return
    // A deliberate `socket.disconnect()` is a leave; anything else (transport lost, ping timeout,
    // server shutdown) may come back, so the seat waits for the grace.
    if (reason === 'client namespace disconnect') await service.leave(membership, connectionOf(socket))
    else await service.drop(membership, connectionOf(socket))
  }

  const table = createEventTable({
    'room:join': on(JoinRoomPayloadSchema, (payload, socket) => serial(socket, () => join(socket, payload))),
    'room:leave': on(LeaveRoomPayloadSchema, (_payload, socket) => serial(socket, () => leave(socket))),
    'playback:update': on(PlaybackUpdatePayloadSchema, (payload, socket) => serial(socket, () => updatePlayback(socket, payload))),
    'sync:time': on(SyncTimePayloadSchema, (payload) => ({ clientTime: payload.clientTime, serverTime: Date.now() }))
  }, {
    namespace: SYNC_NAMESPACE,
    errorEvent: 'room:error',
    onUnexpected: (err, event) => { app.log.error({ err, event }, 'sync event failed') }
  })
  registerEventTable(app.io, table)

  nsp.use(app.realtimeAuth.socketMiddleware({ required: false }))
  nsp.on('connection', (socket) => {
    connections.set(socket, {
      connectionId: randomUUID(),
      ipHash: hashIp(config.ipHashSecret, clientAddress(socket.request, trust)),
      tail: Promise.resolve()
    })
    table.bind(socket)
    socket.on('disconnect', (reason) => {
      serial(socket, () => disconnected(socket, reason)).catch((err) => {
        app.log.warn({ err, socketId: socket.id }, 'sync disconnect handling failed')
      })
    })
    const membership = membershipData(socket)
    if (socket.recovered && membership !== undefined) {
      serial(socket, () => resume(socket, membership)).catch((err) => {
        app.log.warn({ err, socketId: socket.id }, 'sync resume failed')
        socket.emit('room:error', { code: 'INTERNAL_ERROR', message: 'Internal error' })
      })
    }
  })

  service.onParticipantLeft(({ roomId, payload, exceptSocketId }) => {
    const room = nsp.to(channel(roomId))
    ;(exceptSocketId === undefined ? room : room.except(exceptSocketId)).emit('room:participant:left', payload)
  })
  service.onRoomClosed(({ roomId, roomCode, reason }) => {
    const room = nsp.to(channel(roomId))
    room.emit('room:closed', { roomCode, reason })
    room.emit('room:error', { code: 'ROOM_NOT_FOUND', message: reason === 'deleted' ? 'The room was deleted' : 'The room expired' })
    nsp.in(channel(roomId)).socketsLeave(channel(roomId))
  })

  app.decorate('syncRooms', service)
  service.start()
  // `io.local` is the main namespace only: this one's sockets are closed here, so that the HTTP
  // server can close; their seats then wait out the grace (another instance may take them back).
  app.addHook('preClose', (done) => {
    nsp.local.disconnectSockets(true)
    done()
  })
  // Runs before presence, socket-io and the store close (onClose hooks run in reverse order).
  app.addHook('onClose', async () => {
    await Promise.allSettled([...inflight])
    await service.close()
  })
}, { name: 'sync', dependencies: ['config', 'db', 'store', 'socket-io', 'auth', 'rate-limit', 'presence'] })
