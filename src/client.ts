/**
 * Typed Socket.IO events for clients (`roomwire/client`): per namespace, the client → server and
 * server → client maps, derived from the contract's schemas (src/contract/events.ts), so
 *
 *   const sync = io(`${url}/sync`) as Socket<SyncServerToClientEvents, SyncClientToServerEvents>
 *
 * is checked end to end. Types only: nothing of the server (nor TypeBox) is loaded at run time,
 * so a browser or SPA bundle can import it.
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
export type {
  EditMessagePayload, DeleteMessagePayload, ReactionPayload, MessageUpdated, MessageDeleted, ReactionsUpdated, ReactionCounts
} from './contract/chat-changes.js'
export type { RegisterInput, LoginInput } from './contract/auth.js'
/** A registered user as REST and the chat show them. */
export type PublicUser = Static<typeof PublicUserSchema>
