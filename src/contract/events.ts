import Type, { type TSchema } from 'typebox'
import { ErrorResponse } from './common.js'
import {
  JoinRoomPayload, LeaveRoomPayload, PongPayload, UserJoined, UserLeft
} from './public-rooms.js'
import {
  JoinRoomPayloadSchema, LeaveRoomPayloadSchema, ParticipantJoinedPayloadSchema, ParticipantLeftPayloadSchema,
  PlaybackStateSchema, PlaybackUpdatePayloadSchema, RoomClosedPayloadSchema, RoomStatePayloadSchema,
  SyncTimePayloadSchema, SyncTimeReplySchema
} from './sync.js'
import {
  ChannelMessage, ChannelMessagePayload, ChannelRefPayload, ChannelTypingPayload, CodeRefPayload, CodeRoomMessage,
  GroupIdPayload, GroupMessage, GroupRefPayload, JoinedGroupSuccess, OnlineMember, RoomInfo, SendMessagePayload,
  TypingPayload, JoinGroupPayload, ChannelJoinPayload, HistoryReplayed, PresenceUsersPayload, PresenceSubscribeReply, UserStatusValue
} from './chat.js'
import { MarkReadPayload, MarkReadReply, ReadUpdated } from './reads.js'
import { ModeratedNotice, ModerationReply, ModerationTargetPayload, RoomModeratedNotice, SanctionPayload, SyncKickPayload } from './moderation.js'
import {
  DeleteMessagePayload, DeleteMessageReply, EditMessagePayload, EditMessageReply, MessageDeleted, MessageUpdated,
  ReactionPayload, ReactionReply, ReactionsUpdated
} from './chat-changes.js'

/**
 * Every socket event of every namespace, both ways, as one catalog: the AsyncAPI document and
 * the typed client (src/client.ts) are built from it. Client → server payloads are the very
 * schema objects the namespaces' event tables validate with (a test checks they are the same).
 */

export interface ClientEvent {
  /** What the event table validates. */
  payload: TSchema
  /** What the ack callback gets on success; a failure is always `AckError`. */
  reply: TSchema
  summary: string
}

export interface ServerEvent {
  /** Absent: the event is emitted without arguments. */
  payload?: TSchema
  summary: string
}

export interface NamespaceEvents {
  /** The Socket.IO namespace; `{roomId}` is a parameter. */
  address: string
  summary: string
  /** The namespace's error event. */
  errorEvent: string
  client: Record<string, ClientEvent>
  server: Record<string, ServerEvent>
}

const Ok = Type.Object({ ok: Type.Literal(true) })
/** What every ack gets when the event fails (the error event carries the same `error`). */
export const AckError = Type.Object({ ok: Type.Literal(false), error: ErrorResponse })

// ---- server → client payloads that had no schema of their own ----------------------------

export const UserJoinedGroup = Type.Object({ groupId: Type.String(), userId: Type.String(), userName: Type.String() })
export const UserLeftGroup = Type.Object({ groupId: Type.String(), userId: Type.String() })
export const RoomMembersUpdate = Type.Object({ groupId: Type.String(), onlineMembers: Type.Array(OnlineMember) })
export const LeftGroup = Type.Object({ groupId: Type.String() })
export const GroupUserTyping = Type.Object({ groupId: Type.String(), userId: Type.String(), userName: Type.String() })
export const CodeUserTyping = Type.Object({ username: Type.String(), userId: Type.String() })
export const UsersOnline = Type.Array(Type.Object({ userId: Type.String(), username: Type.String() }))
export const ChannelPresence = Type.Object({ roomId: Type.String(), userId: Type.String(), username: Type.String() })
export const ChannelUserTyping = Type.Object({
  roomId: Type.String(), userId: Type.String(), username: Type.String(), isTyping: Type.Boolean()
})
export const RoomDeleted = Type.Object({ roomId: Type.String() })
export const UserStatus = Type.Object({ userId: Type.String(), status: UserStatusValue })
/** Sent by the host app (service API) or the admin REST broadcast: the sender chooses the payload. */
export const AppDefined = Type.Unknown()

/** `/public-room/:roomId` (CONTRACT §4, seed 000). */
export const publicRoomEvents = {
  address: '/public-room/{roomId}',
  summary: 'A public room: anonymous users, live occupancy. Connect without a token; the room must exist.',
  errorEvent: 'error',
  client: {
    'join-room': {
      payload: JoinRoomPayload,
      reply: Type.Object({ ok: Type.Literal(true), ...UserJoined.properties }),
      summary: 'Join the room as an anonymous user created over REST (POST /api/public/users).'
    },
    'leave-room': { payload: LeaveRoomPayload, reply: Ok, summary: 'Leave the room; the server then disconnects the socket.' },
    pong: { payload: PongPayload, reply: Ok, summary: 'Answer to `ping`; any payload is ignored.' }
  },
  server: {
    'user-joined': { payload: UserJoined, summary: 'A user joined (to the room, joiner included; another tab of a present user: to that tab only).' },
    'user-left': { payload: UserLeft, summary: "A user's last socket left the room." },
    ping: { summary: 'Sent after PUBLIC_PING_IDLE_MS without activity; answer with `pong`.' },
    moderated: { payload: RoomModeratedNotice, summary: 'You were kicked or banned from the room (issue 21); the server disconnects the socket next.' },
    error: { payload: ErrorResponse, summary: 'An event failed, or the connection was refused or timed out (then disconnected).' }
  }
} as const satisfies NamespaceEvents

/** `/sync` (CONTRACT §5, seed 002). */
export const syncEvents = {
  address: '/sync',
  summary: 'Watch-party rooms joined by code. Connect with `auth.token` (registered user) or without (guest); a bad token fails the handshake (`connect_error`, `data.code` INVALID_TOKEN).',
  errorEvent: 'room:error',
  client: {
    'room:join': {
      payload: JoinRoomPayloadSchema,
      reply: Type.Object({ ok: Type.Literal(true), ...RoomStatePayloadSchema.properties }),
      summary: 'Join a room by its code (guests give `guestName`; `resumeToken` takes a seat back).'
    },
    'room:leave': { payload: LeaveRoomPayloadSchema, reply: Ok, summary: 'Leave the room at once (no reconnect grace).' },
    'playback:update': { payload: PlaybackUpdatePayloadSchema, reply: PlaybackStateSchema, summary: 'Play, pause, seek, change rate or media; the room gets `playback:state`.' },
    'sync:time': { payload: SyncTimePayloadSchema, reply: SyncTimeReplySchema, summary: 'Clock sync: the ack carries the server time.' },
    'room:kick': {
      payload: SyncKickPayload,
      reply: Type.Object({ ok: Type.Literal(true), participantId: Type.String() }),
      summary: 'The host removes a participant (issue 21): their seat is freed at once, their sockets get `moderated`.'
    }
  },
  server: {
    'room:state': { payload: RoomStatePayloadSchema, summary: 'The room, its participants and playback, to the socket that joined (or was recovered).' },
    'room:participant:joined': { payload: ParticipantJoinedPayloadSchema, summary: 'Another participant joined.' },
    'room:participant:left': { payload: ParticipantLeftPayloadSchema, summary: 'A participant left (or their reconnect grace ran out).' },
    'room:closed': { payload: RoomClosedPayloadSchema, summary: 'The room was deleted or expired; `room:error ROOM_NOT_FOUND` follows.' },
    'playback:state': { payload: PlaybackStateSchema, summary: 'The playback changed, to the whole room.' },
    'room:error': { payload: ErrorResponse, summary: 'An event failed, or the room closed.' },
    moderated: { payload: RoomModeratedNotice, summary: 'You were removed (kicked or banned) from the room by its host or an admin (issue 21); `roomId` is the room code.' }
  }
} as const satisfies NamespaceEvents

/** `/`: chat (CONTRACT §6, seeds 001 groups, 003 code rooms, 004 channels). */
export const chatEvents = {
  address: '/',
  summary: 'Chat: groups (seed 001), code rooms (seed 003) and channels (seed 004). A valid JWT (`auth.token`) is required: the handshake fails otherwise (`connect_error`, `data.code` UNAUTHORIZED or INVALID_TOKEN).',
  errorEvent: 'error',
  client: {
    join_group: { payload: JoinGroupPayload, reply: JoinedGroupSuccess, summary: 'Join a group you are a member of (`groupId` or `{groupId, sinceSeq?}`: `sinceSeq` replays what was stored after it).' },
    leave_group: { payload: GroupRefPayload, reply: LeftGroup, summary: 'Leave a group.' },
    get_room_info: { payload: GroupIdPayload, reply: RoomInfo, summary: 'Who is online in a group: the ack, or a `room_info` event without one.' },
    send_message: {
      payload: SendMessagePayload,
      reply: Type.Union([GroupMessage, CodeRoomMessage]),
      summary: 'Send to a group (`groupId`) or a code room (`room`); the ack gets the message as stored.'
    },
    typing_start: { payload: TypingPayload, reply: Ok, summary: 'Typing in a group (`groupId`) or a code room (`room`).' },
    typing_stop: { payload: TypingPayload, reply: Ok, summary: 'Stopped typing in a group or a code room.' },
    join_room: { payload: CodeRefPayload, reply: Type.Object({ ok: Type.Literal(true), room: Type.String() }), summary: 'Join a code room (`code` or `{room}`), upper-cased by the server.' },
    leave_room: { payload: CodeRefPayload, reply: Type.Object({ ok: Type.Literal(true), room: Type.String() }), summary: 'Leave a code room.' },
    'room:join': {
      payload: ChannelJoinPayload,
      reply: Type.Object({ ok: Type.Literal(true), roomId: Type.String(), first: Type.Boolean() }),
      summary: "Join a channel; `first`: this is the user's first socket in it; `sinceSeq` replays what was stored after it."
    },
    'room:leave': {
      payload: ChannelRefPayload,
      reply: Type.Object({ ok: Type.Literal(true), roomId: Type.String(), last: Type.Boolean() }),
      summary: "Leave a channel; `last`: it was the user's last socket in it."
    },
    message: { payload: ChannelMessagePayload, reply: ChannelMessage, summary: 'Send to a channel; the ack gets the message as stored.' },
    typing: { payload: ChannelTypingPayload, reply: Ok, summary: 'Typing (or not) in a channel.' },
    // issue 17
    'presence:subscribe': {
      payload: PresenceUsersPayload,
      reply: PresenceSubscribeReply,
      summary: "Watch users: their `user:status` comes to this socket; the ack has each one's status now. At most PRESENCE_WATCHLIST_MAX users per socket (INVALID_REQUEST beyond, nothing changed)."
    },
    'presence:unsubscribe': { payload: PresenceUsersPayload, reply: Ok, summary: 'Stop watching users.' },
    // issue 21: read receipts and moderation (groups and channels)
    mark_read: { payload: MarkReadPayload, reply: MarkReadReply, summary: 'You read a group (`groupId`) or channel (`roomId`) up to `seq`; a lower seq than before changes nothing. The room gets `read_updated`.' },
    kick: { payload: ModerationTargetPayload, reply: ModerationReply, summary: "Owner/admins: all the user's sockets leave the room now, on every instance." },
    ban: { payload: SanctionPayload, reply: ModerationReply, summary: 'Owner/admins: kick, and refuse joins (BANNED) until `until` or an unban.' },
    mute: { payload: SanctionPayload, reply: ModerationReply, summary: "Owner/admins: refuse the user's messages (MUTED) until `until` or an unmute." },
    unban: { payload: ModerationTargetPayload, reply: ModerationReply, summary: 'Owner/admins: lift a ban.' },
    unmute: { payload: ModerationTargetPayload, reply: ModerationReply, summary: 'Owner/admins: lift a mute.' },
    // issue 21: stored messages (groups and channels)
    edit_message: { payload: EditMessagePayload, reply: EditMessageReply, summary: 'The sender replaces the content of a stored message (rules as a send); the room gets `message_updated`.' },
    delete_message: { payload: DeleteMessagePayload, reply: DeleteMessageReply, summary: 'The sender, or an owner/admin of the room (a channel: also its creator), deletes a stored message; the room gets `message_deleted`.' },
    react: { payload: ReactionPayload, reply: ReactionReply, summary: "Add this user's reaction (one emoji) to a stored message; idempotent. At most CHAT_REACTIONS_MAX distinct emoji per message (TOO_MANY_REACTIONS)." },
    unreact: { payload: ReactionPayload, reply: ReactionReply, summary: "Remove this user's reaction; idempotent." }
  },
  server: {
    joined_group_success: { payload: JoinedGroupSuccess, summary: 'You joined a group.' },
    user_joined_group: { payload: UserJoinedGroup, summary: "A user's first socket joined the group (to the others)." },
    room_members_update: { payload: RoomMembersUpdate, summary: 'Who is online in the group.' },
    left_group_success: { payload: LeftGroup, summary: 'You left a group (or it was deleted).' },
    user_left_group: { payload: UserLeftGroup, summary: "A user's last socket left the group." },
    message_received: { payload: GroupMessage, summary: 'A group message.' },
    user_typing: {
      payload: Type.Union([GroupUserTyping, CodeUserTyping]),
      summary: 'Someone types: `{groupId, userId, userName}` in a group, `{username, userId}` in a code room.'
    },
    user_stopped_typing: { payload: UserLeftGroup, summary: 'Someone stopped typing in a group (or their typing expired).' },
    room_info: { payload: RoomInfo, summary: 'The answer to `get_room_info` sent without an ack.' },
    joined_room: { payload: Type.String(), summary: 'You joined a code room (its upper-cased code).' },
    left_room: { payload: Type.String(), summary: 'You left a code room.' },
    users_online: { payload: UsersOnline, summary: 'Who is in the code room.' },
    new_message: { payload: CodeRoomMessage, summary: 'A code-room message.' },
    user_stop_typing: { payload: CodeUserTyping, summary: 'Someone stopped typing in a code room.' },
    'user:joined': { payload: ChannelPresence, summary: "A user's first socket joined the channel (another tab: to that tab only)." },
    'user:left': { payload: ChannelPresence, summary: "A user's last socket left the channel; also the confirmation of `room:leave`." },
    message: { payload: ChannelMessage, summary: 'A channel message.' },
    typing: { payload: ChannelUserTyping, summary: 'Someone types (or stopped) in a channel, to the others.' },
    'room:deleted': { payload: RoomDeleted, summary: 'The channel was deleted.' },
    'user:status': { payload: UserStatus, summary: "A watched user's first socket connected or last socket went (to the sockets watching them, `presence:subscribe`); the service API may send it to everyone (`broadcastToAll`)." },
    notification: { payload: AppDefined, summary: 'Sent by the host app (service API) or an admin broadcast; free-form.' },
    'system:announcement': { payload: AppDefined, summary: 'Sent by the host app (service API) or an admin broadcast; free-form.' },
    error: { payload: ErrorResponse, summary: 'An event failed, or the connection could not be registered.' },
    // issue 18: replay beyond the recovery window
    'history:replayed': { payload: HistoryReplayed, summary: 'A join with `sinceSeq` replayed the messages stored after it (to the joining socket, before any live one).' },
    // issue 21
    read_updated: { payload: ReadUpdated, summary: 'A member read the room up to `seq` (to the room, their own tabs included; coalesced per room).' },
    moderated: { payload: ModeratedNotice, summary: 'You were kicked, banned, muted, unbanned or unmuted in a room (kick, ban: to the sockets that were in it, before they leave it).' },
    message_updated: { payload: MessageUpdated, summary: 'A stored message was edited: its latest content and version (`groupId` in a group, `roomId` in a channel).' },
    message_deleted: { payload: MessageDeleted, summary: 'A stored message was deleted: it is a tombstone now (content and reactions gone).' },
    reactions_updated: { payload: ReactionsUpdated, summary: "A message's reaction counts now; coalesced per message (the first change at once, then at most one per CHAT_REACTIONS_COALESCE_MS, always the latest)." }
  }
} as const satisfies NamespaceEvents

/** Every namespace, by the name its AsyncAPI channel has. */
export const namespaceEvents = { publicRoom: publicRoomEvents, sync: syncEvents, chat: chatEvents } as const
