import type { Namespace, Socket } from 'socket.io'
import type { Identity } from '../auth/identity.js'
import type { ChatServerToClientEvents } from '../client.js'
import {
  ChannelJoinPayload, ChannelMessagePayload, ChannelRefPayload, ChannelTypingPayload, CodeRefPayload, GroupIdPayload,
  GroupRefPayload, JoinGroupPayload, PresenceUsersPayload, SendMessagePayload, TypingPayload
} from '../contract/chat.js'
import type { Watchers } from '../presence/watchers.js'
import { defineNamespace, on, type NamespaceLog, type SocketContext } from '../socket/namespace.js'
import type { Outbox } from '../socket/outbox.js'
import type { Limiter } from '../services/limiter.js'
import type { ChatSocketPort } from './delivery.js'
import type { Chat } from './service.js'
import { userRoom, type ChatUser } from './types.js'
import { groupHandlers } from './vocabularies/groups.js'
import { codeRoomHandlers } from './vocabularies/code-rooms.js'
import { channelHandlers } from './vocabularies/channels.js'
import { createReplay } from './replay.js'
import { MarkReadPayload } from '../contract/reads.js'
import { ModerationTargetPayload, SanctionPayload } from '../contract/moderation.js'
import type { Reads } from './reads.js'
import type { ChatModeration } from './moderation.js'
import { DeleteMessagePayload, EditMessagePayload, ReactionPayload } from '../contract/chat-changes.js'
import type { MessageEdits } from './edits.js'
import type { Reactions } from './reactions.js'

export interface ChatNamespaceOptions {
  /** CHAT_MESSAGES_PER_MINUTE, keyed by user, shared by all instances. */
  sendLimiter: Limiter
  /** `presence:subscribe` / `presence:unsubscribe` (issue 17). */
  watchers: Watchers
  /** Also told of every queued step (the presence hub waits for them before the store closes). */
  track?: (work: Promise<unknown>) => void
  log: NamespaceLog
  /** HISTORY_REPLAY_MAX: messages replayed on a join with `sinceSeq` (issue 18). */
  historyReplayMax: number
  /** `mark_read` (issue 21). */
  reads: Reads
  /** `kick`, `ban`, `mute`, `unban`, `unmute`, and the ban check of joins (issue 21). */
  moderation: ChatModeration
  /** Issue 21: edit and delete of stored messages, and their reactions. */
  edits: MessageEdits
  reactions: Reactions
}

type ChatOutbox = Outbox<ChatServerToClientEvents>
/** What a socket of `/` holds between events: the user it speaks for. */
interface ChatSession { user: ChatUser }
type Ctx = SocketContext<ChatSession, ChatServerToClientEvents>

/**
 * Who a socket of `/` speaks for: the identity its token gave, itself (an Identity is a ChatUser
 * with a role and an expiry), so a socket keeps one such object, not two.
 */
const chatUser = (identity: Identity): ChatUser => identity

/** The outbox of `/` for the chat service: `{ user }` audiences go to `user:{id}`. */
export const chatOutboxOptions = { userRoom }

/**
 * The socket layer of `/` as the chat service sees it, over the outbox: emissions and room
 * moves by socket id (a local socket joins at once; one on another instance through the adapter).
 */
export function chatSocketPort (outbox: ChatOutbox): ChatSocketPort {
  const nsp: Namespace = outbox.namespace
  return {
    deliver: (emissions) => outbox.deliver(emissions),
    async enter (socketId, room) {
      const local = nsp.sockets.get(socketId)
      if (local) await outbox.join(local, room).catch(() => {})
      else await outbox.joinRemote({ sockets: [socketId] }, room)
    },
    exit (socketId, room) {
      const local = nsp.sockets.get(socketId)
      if (local) outbox.leave(local, room).catch(() => {})
      else outbox.leaveRemote({ sockets: [socketId] }, room)
    },
    localRoomsOf: (socketId) => nsp.sockets.get(socketId)?.rooms,
    empty (room) { outbox.leaveRemote({ room }, room) }
  }
}

/**
 * A socket's watchlist, in the store (so any instance finds a user's watchers) and in
 * `socket.data.watching`, which connection state recovery restores with the socket.
 */
function watchlistHandlers (watchers: Watchers) {
  const listOf = (socket: Socket): string[] => Array.isArray(socket.data.watching) ? socket.data.watching : []
  return {
    async subscribe (userIds: string[], socket: Socket) {
      const statuses = await watchers.subscribe(socket.id, userIds)
      socket.data.watching = [...new Set([...listOf(socket), ...userIds])]
      return { ok: true, statuses }
    },
    async unsubscribe (userIds: string[], socket: Socket) {
      await watchers.unsubscribe(socket.id, userIds)
      const gone = new Set(userIds)
      socket.data.watching = listOf(socket).filter((id) => !gone.has(id))
      return { ok: true }
    },
    async restore (socket: Socket) {
      const list = listOf(socket)
      if (list.length > 0) await watchers.subscribe(socket.id, list)
    }
  }
}

/**
 * The default namespace `/`: the three vocabularies as ONE event table over the chat service,
 * and each socket's connect and disconnect. `send_message`, `typing_start` and `typing_stop`
 * are shared by seeds 001 and 003: their schemas are unions, and a payload with `groupId` is a
 * group event, one with `room` a code-room event.
 */
export function defineChatNamespace (nsp: Namespace, chat: Chat, options: ChatNamespaceOptions) {
  const groups = groupHandlers(chat)
  const codes = codeRoomHandlers(chat)
  const channels = channelHandlers(chat)
  const joinWithReplay = createReplay(chat, options.historyReplayMax)
  const limit = async (_payload: unknown, ctx: Ctx) => (await options.sendLimiter.consume(ctx.session.user.id)).ok
  const watching = watchlistHandlers(options.watchers)
  const mod = options.moderation

  /** A vocabulary handler of (payload, socketId, user, withAck). */
  const handle = <P> (fn: (payload: P, socketId: string, user: ChatUser, withAck: boolean) => Promise<unknown>) =>
    (payload: P, ctx: Ctx) => fn(payload, ctx.socket.id, ctx.session.user, ctx.withAck)

  async function connect ({ socket, session, outbox }: Ctx): Promise<void> {
    try {
      await chat.connect(socket.id, session.user, { recovered: socket.recovered, rooms: socket.rooms })
      // After chat.connect, which waited for the old disconnect's cleanup (its watchlist dropped).
      if (socket.recovered) await watching.restore(socket)
    } catch (err) {
      options.log.error({ err }, 'chat connect failed')
      if (socket.connected) {
        outbox.writeAtOnce(socket, 'error', { code: 'INTERNAL_ERROR', message: 'Could not register the connection' })
        socket.disconnect(true)
      }
      throw err
    }
  }

  return defineNamespace<ChatSession, ChatServerToClientEvents>({
    nsp,
    name: '/',
    errorEvent: 'error',
    log: options.log,
    outbox: chatOutboxOptions,
    track: options.track,
    session: (socket: Socket) => ({ user: chatUser(socket.data.identity as Identity) }),
    connect,
    disconnect: ({ socket, session }, reason) => chat.disconnect(socket.id, session.user, reason),
    onUnexpected: (err, event) => { options.log.error({ err, event }, 'chat event failed') },
    events: {
      // seed 001
      join_group: on(JoinGroupPayload, (p, { socket, session }) => {
        const room = { kind: 'group' as const, id: typeof p === 'string' ? p : p.groupId }
        return joinWithReplay(socket, session.user.id, room, typeof p === 'string' ? undefined : p.sinceSeq,
          () => mod.guardJoin(room, session.user.id, () => groups.join(p, socket.id, session.user)))
      }),
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
      'room:join': on(ChannelJoinPayload, (p, { socket, session }) => joinWithReplay(socket, session.user.id,
        { kind: 'channel', id: p.roomId }, p.sinceSeq,
        () => mod.guardJoin({ kind: 'channel', id: p.roomId }, session.user.id, () => channels.join(p, socket.id, session.user)))),
      'room:leave': on(ChannelRefPayload, handle(channels.leave)),
      message: on(ChannelMessagePayload, handle(channels.message), { limit }),
      typing: on(ChannelTypingPayload, handle(channels.typing)),
      // seeds 001 and 004, stored messages (issue 21)
      // an edit rebroadcasts content: it counts as a send (CHAT_MESSAGES_PER_MINUTE)
      edit_message: on(EditMessagePayload, handle(options.edits.edit), { limit }),
      delete_message: on(DeleteMessagePayload, handle(options.edits.remove)),
      react: on(ReactionPayload, handle(options.reactions.react)),
      unreact: on(ReactionPayload, handle(options.reactions.unreact)),
      // all vocabularies (issue 17)
      'presence:subscribe': on(PresenceUsersPayload, (p, ctx: Ctx) => watching.subscribe(p.userIds, ctx.socket)),
      'presence:unsubscribe': on(PresenceUsersPayload, (p, ctx: Ctx) => watching.unsubscribe(p.userIds, ctx.socket)),
      // groups and channels (issue 21)
      mark_read: on(MarkReadPayload, (p, ctx: Ctx) => options.reads.mark(p, ctx.session.user)),
      kick: on(ModerationTargetPayload, handle(mod.kick)),
      ban: on(SanctionPayload, handle(mod.ban)),
      mute: on(SanctionPayload, handle(mod.mute)),
      unban: on(ModerationTargetPayload, handle(mod.unban)),
      unmute: on(ModerationTargetPayload, handle(mod.unmute))
    }
  })
}

export type ChatNamespace = ReturnType<typeof defineChatNamespace>
