/**
 * Typed Socket.IO events for clients (`roomwire/client`): per namespace, the client → server and
 * server → client maps, derived from the contract's schemas (src/contract/events.ts), so
 *
 *   const sync = io(`${url}/sync`) as Socket<SyncServerToClientEvents, SyncClientToServerEvents>
 *
 * is checked end to end. Nothing of the server (nor TypeBox) is loaded at run time, so a browser
 * or SPA bundle can import it; the one runtime piece, `followHistory`, has no imports.
 */
import type { Static, TSchema } from 'typebox'
import type { PublicUser as PublicUserSchema } from './contract/auth.js'
import type { AckError as AckErrorSchema, chatEvents, ClientEvent, publicRoomEvents, ServerEvent, syncEvents } from './contract/events.js'

/** What every failed ack gets: `{ ok: false, error: { code, message } }`. */
export type AckError = Static<typeof AckErrorSchema>
export type WireError = AckError['error']

/** The ack callback of an event whose successful reply is `R`. */
export type Ack<R> = (reply: R | AckError) => void

/** A client event: the payload may be left out only when its schema accepts `undefined`. */
type Emitter<P, R> = undefined extends P
  ? (payload?: P, ack?: Ack<R>) => void
  : (payload: P, ack?: Ack<R>) => void

type ClientEventsOf<C extends Record<string, ClientEvent>> = {
  [E in keyof C]: Emitter<Static<C[E]['payload']>, Static<C[E]['reply']>>
}

type ServerEventsOf<S extends Record<string, ServerEvent>> = {
  [E in keyof S]: S[E] extends { payload: infer P extends TSchema } ? (payload: Static<P>) => void : () => void
}

// ---- /public-room/:roomId -------------------------------------------------------------------

export type PublicRoomClientToServerEvents = ClientEventsOf<typeof publicRoomEvents.client>
export type PublicRoomServerToClientEvents = ServerEventsOf<typeof publicRoomEvents.server>

// ---- /sync ----------------------------------------------------------------------------------

export type SyncClientToServerEvents = ClientEventsOf<typeof syncEvents.client>
export type SyncServerToClientEvents = ServerEventsOf<typeof syncEvents.server>

// ---- / (chat) -------------------------------------------------------------------------------

export type ChatClientToServerEvents = ClientEventsOf<typeof chatEvents.client>
export type ChatServerToClientEvents = ServerEventsOf<typeof chatEvents.server>

// ---- payloads -------------------------------------------------------------------------------

/** The payload of client event `E` of a namespace's map. */
export type PayloadOf<M, E extends keyof M> = M[E] extends (payload: infer P, ...rest: any[]) => void ? Exclude<P, undefined> : never
/** The successful ack reply of client event `E`. */
export type ReplyOf<M, E extends keyof M> = M[E] extends (payload: any, ack?: Ack<infer R>) => void ? R : never
/** The payload of server event `E`. */
export type EventOf<M, E extends keyof M> = M[E] extends (payload: infer P) => void ? P : never

export type { UserJoinedEvent, UserLeftEvent, PublicRoomView, AnonymousUserView } from './contract/public-rooms.js'
export type {
  JoinRoomPayload as SyncJoinRoomPayload, PlaybackAction, PlaybackUpdatePayload, Participant, PlaybackState,
  RoomStatePayload, ParticipantJoinedPayload, ParticipantLeftPayload, RoomClosedPayload, SyncTimeReply, SyncRoom
} from './contract/sync.js'
export type {
  GroupSendPayload, CodeSendPayload, SendMessagePayload, TypingPayload, ChannelMessagePayload, ChannelMessageType,
  GroupMessage, CodeRoomMessage, ChannelMessage, OnlineMember, JoinedGroupSuccess, RoomInfo, Group, Member, Channel,
  GroupPresence, HistoryReplayed
} from './contract/chat.js'
export type { MarkReadPayload, MarkReadReply, ReadUpdated, GroupUnread } from './contract/reads.js'
export type { ModerationTargetPayload, SanctionPayload, ModerationReply, ModeratedNotice, ModerationActionView } from './contract/moderation.js'
export type {
  EditMessagePayload, DeleteMessagePayload, ReactionPayload, MessageUpdated, MessageDeleted, ReactionsUpdated, ReactionCounts
} from './contract/chat-changes.js'
export type { RegisterInput, LoginInput } from './contract/auth.js'
/** A registered user as REST and the chat show them. */
export type PublicUser = Static<typeof PublicUserSchema>

// ---- history across reconnects (CONTRACT §12) --------------------------------------------

/** The part of a socket.io-client `Socket` on `/` that `followHistory` uses. */
export interface ChatSocketLike {
  readonly recovered?: boolean
  on (event: 'connect', listener: () => void): unknown
  on (event: 'message_received', listener: (message: { groupId: string, seq: number }) => void): unknown
  on (event: 'message', listener: (message: { roomId: string, seq: number }) => void): unknown
  emit (event: 'join_group', payload: { groupId: string, sinceSeq?: number }, ack?: (reply: unknown) => void): unknown
  emit (event: 'room:join', payload: { roomId: string, sinceSeq?: number }, ack?: (reply: unknown) => void): unknown
}

export interface FollowedHistory {
  /** Joins a group (seed 001) and follows it: after `sinceSeq` when given. */
  joinGroup: (groupId: string, sinceSeq?: number, ack?: (reply: unknown) => void) => void
  /** Joins a channel (seed 004) and follows it. */
  joinChannel: (roomId: string, sinceSeq?: number, ack?: (reply: unknown) => void) => void
  /** Stops following (after `leave_group` / `room:leave`). */
  forget: (room: { groupId: string } | { roomId: string }) => void
  /** The highest seq seen in a followed room (0 when none yet). */
  lastSeq: (room: { groupId: string } | { roomId: string }) => number
}

/**
 * Follows the groups and channels a chat socket joins through it, so that no message is lost to
 * a disconnect of any length: it keeps the highest `seq` seen per room and, after a reconnect that
 * Socket.IO could not recover (`socket.recovered` false: away past the recovery window, or the
 * instance gone), joins each room again with `sinceSeq`, so the server replays what was missed in
 * seq order before any live message and ends with `history:replayed` (`complete: false`: fetch the
 * rest over REST). A recovered connection needs nothing: Socket.IO replays for it.
 */
export function followHistory (socket: ChatSocketLike): FollowedHistory {
  const groups = new Map<string, number>()
  const channels = new Map<string, number>()
  const seen = (rooms: Map<string, number>, id: string, seq: number) => {
    const last = rooms.get(id)
    if (last !== undefined && seq > last) rooms.set(id, seq)
  }
  socket.on('message_received', (m) => { seen(groups, m.groupId, m.seq) })
  socket.on('message', (m) => { seen(channels, m.roomId, m.seq) })
  let connectedBefore = false
  socket.on('connect', () => {
    const again = connectedBefore
    connectedBefore = true
    if (!again || socket.recovered === true) return
    for (const [groupId, sinceSeq] of groups) socket.emit('join_group', { groupId, sinceSeq })
    for (const [roomId, sinceSeq] of channels) socket.emit('room:join', { roomId, sinceSeq })
  })
  const mapOf = (room: { groupId: string } | { roomId: string }) =>
    'groupId' in room ? [groups, room.groupId] as const : [channels, room.roomId] as const
  return {
    joinGroup (groupId, sinceSeq, ack) {
      groups.set(groupId, Math.max(groups.get(groupId) ?? 0, sinceSeq ?? 0))
      socket.emit('join_group', sinceSeq === undefined ? { groupId } : { groupId, sinceSeq }, ack)
    },
    joinChannel (roomId, sinceSeq, ack) {
      channels.set(roomId, Math.max(channels.get(roomId) ?? 0, sinceSeq ?? 0))
      socket.emit('room:join', sinceSeq === undefined ? { roomId } : { roomId, sinceSeq }, ack)
    },
    forget (room) {
      const [rooms, id] = mapOf(room)
      rooms.delete(id)
    },
    lastSeq (room) {
      const [rooms, id] = mapOf(room)
      return rooms.get(id) ?? 0
    }
  }
}
