import type { Namespace, Socket } from 'socket.io'
import type { Identity } from '../auth/identity.js'
import {
  ChannelMessagePayload, ChannelRefPayload, ChannelTypingPayload, CodeRefPayload, GroupIdPayload,
  GroupRefPayload, SendMessagePayload, TypingPayload
} from '../contract/chat.js'
import { createEventTable, on } from '../socket/events.js'
import type { Limiter } from '../services/limiter.js'
import type { ChatEmission } from '../socket/emission.js'
import type { ChatSocketPort } from './delivery.js'
import type { Chat } from './service.js'
import type { ChatUser } from './types.js'
import { groupHandlers } from './vocabularies/groups.js'
import { codeRoomHandlers } from './vocabularies/code-rooms.js'
import { channelHandlers } from './vocabularies/channels.js'

export interface ChatNamespaceOptions {
  /** CHAT_MESSAGES_PER_MINUTE, keyed by user, shared by all instances. */
  sendLimiter: Limiter
  /** Work that shutdown must wait for (connect and disconnect steps). */
  track: <T>(work: Promise<T>) => Promise<T>
  onError: (err: unknown) => void
  onConnectFailed: (err: unknown) => void
  onUnexpected?: (err: unknown, event: string, socket: Socket) => void
}

/** Who a socket of `/` speaks for: the identity its token gave. */
const chatUser = (identity: Identity): ChatUser => ({ id: identity.id, username: identity.username, displayName: identity.displayName })

/**
 * The socket layer of `/` as the chat service sees it: emissions and room moves by socket id
 * (a local socket joins at once; one on another instance through the adapter).
 */
export function chatSocketPort (nsp: Namespace): ChatSocketPort {
  return {
    async deliver (emissions: ChatEmission[]) {
      for (const { to, event, payload } of emissions) {
        const rooms = 'socket' in to ? [to.socket] : 'room' in to ? [to.room] : 'user' in to ? [`user:${to.user}`] : []
        const except = 'room' in to ? to.except ?? [] : []
        const packet = { type: 2 /* EVENT */, data: [event, payload] }
        await Promise.resolve(nsp.adapter.broadcast(packet, { rooms: new Set(rooms), except: new Set(except), flags: {} }) as unknown)
      }
    },
    enter (socketId, room) {
      const local = nsp.sockets.get(socketId)
      if (local) local.join(room)
      else nsp.in(socketId).socketsJoin(room)
    },
    exit (socketId, room) {
      const local = nsp.sockets.get(socketId)
      if (local) local.leave(room)
      else nsp.in(socketId).socketsLeave(room)
    },
    localRoomsOf: (socketId) => nsp.sockets.get(socketId)?.rooms,
    empty (room) { nsp.in(room).socketsLeave(room) }
  }
}

/**
 * What a connected socket of `/` holds between events: its user, and only while something is
 * queued, the queue's tail (an idle socket keeps no promise).
 */
interface SocketState {
  user: ChatUser
  /**
   * The socket's events run one at a time, in arrival order (a join, then a send, say), the
   * service's connect first; the last one queued, until it settles.
   */
  tail: Promise<unknown> | undefined
  /** The service's connect, kept only when it failed: every handler then fails with its error. */
  failed: Promise<unknown> | undefined
}

/**
 * The default namespace `/`: the three vocabularies as ONE event table over the chat service,
 * and each socket's connect and disconnect. `send_message`, `typing_start` and `typing_stop`
 * are shared by seeds 001 and 003: their schemas are unions, and a payload with `groupId` is a
 * group event, one with `room` a code-room event.
 */
export function createChatNamespace (nsp: Namespace, chat: Chat, options: ChatNamespaceOptions) {
  const sockets = new WeakMap<Socket, SocketState>()

  function state (socket: Socket): SocketState {
    const found = sockets.get(socket)
    if (!found) throw new Error(`socket ${socket.id} is not bound to the chat events`)
    return found
  }

  /** Queues `step` after whatever the socket has queued; the tail is dropped once it settles. */
  function enqueue<T> (s: SocketState, step: (previous: Promise<unknown>) => Promise<T>): Promise<T> {
    const run = step(s.tail ?? Promise.resolve())
    const tail: Promise<unknown> = run.then(idle, idle)
    s.tail = tail
    function idle (): void {
      if (s.tail === tail) s.tail = undefined
    }
    return run
  }

  function serial<T> (socket: Socket, work: () => Promise<T>): Promise<T> {
    return enqueue(state(socket), (previous) => previous.then(work))
  }

  /** A handler of (payload, socketId, user), run in the socket's queue once it is connected. */
  function handle<P> (fn: (payload: P, socketId: string, user: ChatUser, withAck: boolean) => Promise<unknown>) {
    return (payload: P, socket: Socket, withAck: boolean) => serial(socket, async () => {
      const { failed, user } = state(socket)
      await failed
      return await fn(payload, socket.id, user, withAck)
    })
  }

  const limit = async (socket: Socket) => (await options.sendLimiter.consume(state(socket).user.id)).ok
  const groups = groupHandlers(chat)
  const codes = codeRoomHandlers(chat)
  const channels = channelHandlers(chat)

  const table = createEventTable({
    // seed 001
    join_group: on(GroupRefPayload, handle(groups.join)),
    leave_group: on(GroupRefPayload, handle(groups.leave)),
    // answers by ack, or by a `room_info` event when the client passed none
    get_room_info: on(GroupIdPayload, handle(groups.info)),
    // seeds 001 and 003
    send_message: on(SendMessagePayload, handle((p, socketId, user) =>
      'groupId' in p ? groups.send(p, socketId, user) : codes.send(p, socketId, user)), { limit }),
    typing_start: on(TypingPayload, handle((p, socketId, user) =>
      'groupId' in p ? groups.typing(p, socketId, user, true) : codes.typing(p, socketId, user, true))),
    typing_stop: on(TypingPayload, handle((p, socketId, user) =>
      'groupId' in p ? groups.typing(p, socketId, user, false) : codes.typing(p, socketId, user, false))),
    // seed 003
    join_room: on(CodeRefPayload, handle(codes.join)),
    leave_room: on(CodeRefPayload, handle(codes.leave)),
    // seed 004
    'room:join': on(ChannelRefPayload, handle(channels.join)),
    'room:leave': on(ChannelRefPayload, handle(channels.leave)),
    message: on(ChannelMessagePayload, handle(channels.message), { limit }),
    typing: on(ChannelTypingPayload, handle(channels.typing))
  }, { namespace: '/', errorEvent: 'error', onUnexpected: options.onUnexpected })

  // One listener shared by every socket (Socket.IO calls it with the socket as `this`): a
  // connection costs no closure of its own for its cleanup.
  function disconnected (this: Socket, reason: string): void {
    const socket = this
    const { user } = state(socket)
    options.track(serial(socket, () => chat.disconnect(socket.id, user, reason))).catch(options.onError)
  }

  function connected (socket: Socket): void {
    const user = chatUser(socket.data.identity as Identity)
    const ready = options.track(chat.connect(socket.id, user, { recovered: socket.recovered, rooms: socket.rooms }))
    ready.catch((err: unknown) => {
      options.onConnectFailed(err)
      if (socket.connected) {
        socket.emit('error', { code: 'INTERNAL_ERROR', message: 'Could not register the connection' })
        socket.disconnect(true)
      }
    })
    const s: SocketState = { user, tail: undefined, failed: undefined }
    sockets.set(socket, s)
    enqueue(s, () => ready.catch(() => { s.failed = ready }))
    table.bind(socket)
    socket.on('disconnect', disconnected)
  }

  return {
    /** The event table itself (its names and schemas), for `registerEventTable`. */
    table,
    /** Starts serving `/`: every socket that connects from now on. */
    listen (): void { nsp.on('connection', connected) }
  }
}

export type ChatNamespace = ReturnType<typeof createChatNamespace>
