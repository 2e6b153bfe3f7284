import type { Socket } from 'socket.io'
import {
  ChannelMessagePayload, ChannelRefPayload, ChannelTypingPayload, CodeRefPayload, GroupIdPayload,
  GroupRefPayload, SendMessagePayload, TypingPayload
} from '../contract/chat.js'
import { createEventTable, on } from '../socket/events.js'
import type { Limiter } from '../services/limiter.js'
import type { Chat } from './core.js'
import type { ChatUser } from './types.js'
import { groupHandlers } from './groups.js'
import { codeRoomHandlers } from './code-rooms.js'
import { channelHandlers } from './channels.js'

export interface ChatSocketEventsOptions {
  /** CHAT_MESSAGES_PER_MINUTE, keyed by user, shared by all instances. */
  sendLimiter: Limiter
  onUnexpected?: (err: unknown, event: string, socket: Socket) => void
}

/**
 * What a connected socket of `/` holds between events: its user, and only while something is
 * queued, the queue's tail (an idle socket keeps no promise).
 */
interface SocketState {
  user: ChatUser
  /**
   * The socket's events run one at a time, in arrival order (a join, then a send, say), the
   * core's connect first; the last one queued, until it settles.
   */
  tail: Promise<unknown> | undefined
  /** The core's connect, kept only when it failed: every handler then fails with its error. */
  failed: Promise<unknown> | undefined
}

/**
 * The three vocabularies of `/` as ONE event table over the chat core. `send_message`,
 * `typing_start` and `typing_stop` are shared by seeds 001 and 003: their schemas are unions,
 * and a payload with `groupId` is a group event, one with `room` a code-room event.
 */
export function createChatSocketEvents (chat: Chat, options: ChatSocketEventsOptions) {
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

  /** A handler of (payload, socket, user), run in the socket's queue once it is connected. */
  function handle<P> (fn: (payload: P, socket: Socket, user: ChatUser, withAck: boolean) => Promise<unknown>) {
    return (payload: P, socket: Socket, withAck: boolean) => serial(socket, async () => {
      const { failed, user } = state(socket)
      await failed
      return await fn(payload, socket, user, withAck)
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
    send_message: on(SendMessagePayload, handle((p, socket, user) =>
      'groupId' in p ? groups.send(p, socket, user) : codes.send(p, socket, user)), { limit }),
    typing_start: on(TypingPayload, handle((p, socket, user) =>
      'groupId' in p ? groups.typing(p, socket, user, true) : codes.typing(p, socket, user, true))),
    typing_stop: on(TypingPayload, handle((p, socket, user) =>
      'groupId' in p ? groups.typing(p, socket, user, false) : codes.typing(p, socket, user, false))),
    // seed 003
    join_room: on(CodeRefPayload, handle(codes.join)),
    leave_room: on(CodeRefPayload, handle(codes.leave)),
    // seed 004
    'room:join': on(ChannelRefPayload, handle(channels.join)),
    'room:leave': on(ChannelRefPayload, handle(channels.leave)),
    message: on(ChannelMessagePayload, handle(channels.message), { limit }),
    typing: on(ChannelTypingPayload, handle(channels.typing))
  }, { namespace: '/', errorEvent: 'error', onUnexpected: options.onUnexpected })

  return {
    names: table.names,
    /** The event table itself (its names and schemas), for `registerEventTable`. */
    table,

    /** Binds every event of `/` to the socket; handlers wait for `ready` (the core's connect). */
    bind (socket: Socket, user: ChatUser, ready: Promise<unknown>): void {
      const s: SocketState = { user, tail: undefined, failed: undefined }
      sockets.set(socket, s)
      enqueue(s, () => ready.catch(() => { s.failed = ready }))
      table.bind(socket)
    },

    /** The user a bound socket speaks for. */
    userOf (socket: Socket): ChatUser {
      return state(socket).user
    },

    /** Runs `work` after everything queued for the socket (its disconnect cleanup). */
    after<T> (socket: Socket, work: () => Promise<T>): Promise<T> {
      return serial(socket, work)
    }
  }
}

export type ChatSocketEvents = ReturnType<typeof createChatSocketEvents>
