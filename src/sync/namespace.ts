import { randomUUID } from 'node:crypto'
import type { Namespace, Socket } from 'socket.io'
import type { SyncServerToClientEvents } from '../client.js'
import {
  JoinRoomPayloadSchema, LeaveRoomPayloadSchema, PlaybackUpdatePayloadSchema, SyncTimePayloadSchema,
  type JoinRoomPayload, type PlaybackUpdatePayload
} from '../contract/sync.js'
import type { Identity } from '../auth/identity.js'
import { AppError } from '../errors.js'
import { defineNamespace, on, type NamespaceLog, type SocketContext } from '../socket/namespace.js'
import { createOutbox } from '../socket/outbox.js'
import { roomChannel, type Connection, type Membership, type SyncOutbox, type SyncRooms } from './service.js'
import { SyncKickPayload } from '../contract/moderation.js'
import type { SyncModeration } from './moderation.js'

export const SYNC_NAMESPACE = '/sync'

/** Per connection: a fresh id (a recovered socket keeps its socket id, not this) and the caller's hashed IP. */
export interface SyncSession { connectionId: string, ipHash: string }

type Ctx = SocketContext<SyncSession, SyncServerToClientEvents>

/** The outbox the service is handed: typed `/sync` emissions, and emptying a room's Socket.IO room. */
export function createSyncOutbox (nsp: Namespace): SyncOutbox {
  const outbox = createOutbox<SyncServerToClientEvents>(nsp)
  return {
    send: (...emissions) => { outbox.send(...emissions) },
    deliver: (emissions) => outbox.deliver(emissions),
    empty: (room) => { outbox.leaveRemote({ room }, room) }
  }
}

export interface SyncNamespaceOptions {
  nsp: Namespace
  service: SyncRooms
  /** The HMAC of the socket's client address. */
  ipHashOf: (socket: Socket) => string
  log: NamespaceLog
  /** Also told of every queued step (presence waits for them before the store closes). */
  track?: (work: Promise<unknown>) => void
  /** Bans checked on join, `room:kick` (issue 21). */
  moderation: SyncModeration
}

const notInRoom = () => new AppError('NOT_IN_ROOM', 'Join a room first')

/**
 * The `/sync` namespace (seed 002). Every room change of one socket runs in order (join, leave,
 * playback, disconnect), so a burst of events cannot give one socket two seats.
 * A socket that loses its transport keeps its seat for SYNC_RECONNECT_GRACE_MS; `room:leave`
 * and a deliberate client `disconnect()` give it up at once. The membership lives in
 * `socket.data`, so that connection state recovery brings it back.
 */
export function createSyncNamespace ({ nsp, service, ipHashOf, log, track, moderation }: SyncNamespaceOptions) {
  const connectionOf = ({ socket, session }: Ctx): Connection => ({ socketId: socket.id, connectionId: session.connectionId })
  const membershipData = (socket: Socket): Membership | undefined => socket.data.sync

  async function forget (ctx: Ctx, membership: Membership): Promise<void> {
    delete ctx.socket.data.sync
    await ctx.outbox.leave(ctx.socket, roomChannel(membership.roomId))
  }

  /** The socket's room, checked against the store (the room may be gone, or the seat swept). */
  async function membershipOf (ctx: Ctx): Promise<Membership | null> {
    const membership = membershipData(ctx.socket)
    if (membership === undefined) return null
    if (await service.isAttached(membership, connectionOf(ctx))) return membership
    await forget(ctx, membership)
    return null
  }

  async function join (payload: JoinRoomPayload, ctx: Ctx) {
    const { socket, session, outbox } = ctx
    await moderation.guardJoin(payload.roomCode, (socket.data.identity as Identity | null) ?? null)
    const result = await service.join({
      ...payload,
      identity: (socket.data.identity as Identity | null) ?? null,
      ipHash: session.ipHash,
      ...connectionOf(ctx),
      current: await membershipOf(ctx)
    })
    const room = roomChannel(result.membership.roomId)
    socket.data.sync = result.membership
    await outbox.join(socket, room)
    outbox.send({ to: { socket: socket.id }, event: 'room:state', payload: result.state })
    if (result.joined !== null) {
      outbox.send({ to: { room, except: [socket.id] }, event: 'room:participant:joined', payload: { participant: result.joined } })
    }
    return { ok: true, ...result.state }
  }

  async function leave (ctx: Ctx) {
    const membership = await membershipOf(ctx)
    if (membership === null) throw notInRoom()
    await service.leave(membership, connectionOf(ctx))
    await forget(ctx, membership)
  }

  async function updatePlayback (update: PlaybackUpdatePayload, ctx: Ctx) {
    const membership = await membershipOf(ctx)
    if (membership === null) throw notInRoom()
    const playback = await service.updatePlayback(membership, update)
    ctx.outbox.send({ to: { room: roomChannel(membership.roomId) }, event: 'playback:state', payload: playback })
    return playback
  }

  /** Socket.IO recovered the socket (same id, rooms and data): take the seat back, resend the state. */
  async function resume (ctx: Ctx, membership: Membership) {
    const { socket, outbox } = ctx
    const state = await service.resume(membership, connectionOf(ctx))
    if (state !== null) {
      outbox.send({ to: { socket: socket.id }, event: 'room:state', payload: state })
      return
    }
    await forget(ctx, membership)
    outbox.send({ to: { socket: socket.id }, event: 'room:error', payload: { code: 'NOT_IN_ROOM', message: 'You were away longer than the reconnect grace; join the room again' } })
  }

  /** Never fails: a failed resume is told to the socket, and its later events run as usual. */
  async function connect (ctx: Ctx): Promise<void> {
    const membership = membershipData(ctx.socket)
    if (!ctx.socket.recovered || membership === undefined) return
    try {
      await resume(ctx, membership)
    } catch (err) {
      log.warn({ err, socketId: ctx.socket.id }, 'sync resume failed')
      ctx.outbox.send({ to: { socket: ctx.socket.id }, event: 'room:error', payload: { code: 'INTERNAL_ERROR', message: 'Internal error' } })
    }
  }

  async function disconnect (ctx: Ctx, reason: string): Promise<void> {
    const membership = membershipData(ctx.socket)
    if (membership === undefined) return
    // A deliberate `socket.disconnect()` is a leave; anything else (transport lost, ping timeout,
    // server shutdown) may come back, so the seat waits for the grace.
    if (reason === 'client namespace disconnect') await service.leave(membership, connectionOf(ctx))
    else await service.drop(membership, connectionOf(ctx))
  }

  return defineNamespace<SyncSession, SyncServerToClientEvents>({
    nsp,
    name: SYNC_NAMESPACE,
    errorEvent: 'room:error',
    log,
    track,
    session: (socket) => ({ connectionId: randomUUID(), ipHash: ipHashOf(socket) }),
    // Every /sync socket is a guest: its IP's sockets also share one inbound budget.
    anonymousIp: (session) => session.ipHash,
    connect,
    disconnect,
    onUnexpected: (err, event) => { log.error({ err, event }, 'sync event failed') },
    events: {
      'room:join': on(JoinRoomPayloadSchema, join),
      'room:leave': on(LeaveRoomPayloadSchema, (_payload, ctx: Ctx) => leave(ctx)),
      'playback:update': on(PlaybackUpdatePayloadSchema, updatePlayback),
      'room:kick': on(SyncKickPayload, async (payload, ctx: Ctx) => {
        const membership = await membershipOf(ctx)
        if (membership === null) throw notInRoom()
        return await moderation.kick(payload, membership, (ctx.socket.data.identity as Identity | null) ?? null)
      }),
      'sync:time': on(SyncTimePayloadSchema, (payload) => ({ clientTime: payload.clientTime, serverTime: Date.now() }), { ordered: false })
    }
  })
}

export type SyncNamespace = ReturnType<typeof createSyncNamespace>
