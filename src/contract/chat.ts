import Type, { type Static, type TSchema } from 'typebox'
import { bearerAuth, Cursor, ErrorResponse, Name, NextCursor, PageLimit, route, Seq, Text } from './common.js'
import { examplesWithoutMetadata } from './metadata.js'
import { CHAT_CHANGE_ERROR_CODES, changedMessageFields } from './chat-changes.js'

/**
 * CONTRACT §6: chat on the default namespace `/`, three vocabularies over one core.
 *
 * Error codes (socket `error {code, message}` and the ack's `{ok: false, error}`; REST with the
 * status in brackets):
 * - `INVALID_REQUEST` (400) payload fails its schema, empty message, bad room code, unknown replyToId
 * - `ROOM_NOT_FOUND` (404) no such group or channel (any id that is not one, UUID or not)
 * - `NOT_A_MEMBER` (403) the group exists and the user is not in its member list (404 when REST
 *   removes a user who is not a member)
 * - `NOT_IN_ROOM` a send or typing event for a room this socket has not joined
 * - `MESSAGE_TOO_LONG` content over CHAT_MAX_LENGTH characters (after trimming)
 * - `RATE_LIMITED` (429) over CHAT_MESSAGES_PER_MINUTE messages in a minute, per user
 * - `FORBIDDEN` (403) REST: the caller's role in the group does not allow the action
 * - `USER_NOT_FOUND` (404) REST: adding a user that is not registered, without a `userName`
 * - `SOCKET_NOT_FOUND` (404) service API: joining a socket id that is not connected anywhere
 * - `UNKNOWN_EVENT` an event `/` does not know, sent with an ack (CONTRACT §10)
 * - `BANNED` (403) a join while banned from the room, `MUTED` (403) a send while muted (issue 21,
 *   src/contract/moderation.ts)
 * - `INTERNAL_ERROR` anything unexpected (logged)
 * - `MESSAGE_NOT_FOUND`, `TOO_MANY_REACTIONS`: edits, deletes and reactions (chat-changes.ts)
 * Handshake: `connect_error` with `data.code` `UNAUTHORIZED` (no token) or `INVALID_TOKEN`.
 */
export const CHAT_ERROR_CODES = [
  'INVALID_REQUEST', 'ROOM_NOT_FOUND', 'NOT_A_MEMBER', 'NOT_IN_ROOM', 'MESSAGE_TOO_LONG',
  'RATE_LIMITED', 'FORBIDDEN', 'USER_NOT_FOUND', 'SOCKET_NOT_FOUND', 'UNKNOWN_EVENT', 'INTERNAL_ERROR',
  'BANNED', 'MUTED',
  ...CHAT_CHANGE_ERROR_CODES
] as const

const Id = Text({ minLength: 1, maxLength: 100 })
const Uuid = Type.String({ format: 'uuid' })
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
/** Length is a setting (CHAT_MAX_LENGTH), checked by the core after trimming. */
const Content = Text()
const ClientMessageId = Text({ minLength: 1, maxLength: 128 })
const IsoDate = Type.String({ format: 'date-time' })
/** Seed 003 room codes: any text, trimmed and upper-cased by the server. */
const RoomCode = Text({ maxLength: 200 })

const ALICE = '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b'
const GROUP_ID = 'd1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6'
const CHANNEL_ID = 'e4d3c2b1-a0f9-4e8d-9c7b-6a5f4e3d2c1b'

// ---- client → server ---------------------------------------------------------------------

/** Seed 001: `join_group(groupId)`; `{groupId}` accepted too. */
export const GroupRefPayload = Type.Union([Id, Type.Object({ groupId: Id })])
export const GroupIdPayload = Type.Object({ groupId: Id })

export const GroupSendPayload = Type.Object({
  groupId: Id,
  content: Content,
  type: Type.Optional(Text({ minLength: 1, maxLength: 32 })),
  replyToId: Type.Optional(Nullable(Uuid)),
  clientMessageId: Type.Optional(ClientMessageId)
})
export const CodeSendPayload = Type.Object({
  room: RoomCode,
  content: Content,
  messageType: Type.Optional(Text({ maxLength: 32 }))
})
/** `send_message`: with `groupId` a group message (seed 001), with `room` a code-room one (seed 003). */
export const SendMessagePayload = Type.Union([GroupSendPayload, CodeSendPayload])

export const CodeTypingPayload = Type.Object({ room: RoomCode })
/** `typing_start` / `typing_stop`: `{groupId}` (seed 001) or `{room}` (seed 003). */
export const TypingPayload = Type.Union([GroupIdPayload, CodeTypingPayload])

/** Seed 003: `join_room(code)`; `{room}` accepted too. */
export const CodeRefPayload = Type.Union([RoomCode, Type.Object({ room: RoomCode })])

export const ChannelRefPayload = Type.Object({ roomId: Id })
export const ChannelMessageType = Type.Union([Type.Literal('text'), Type.Literal('image'), Type.Literal('file'), Type.Literal('system')])
export const ChannelMessagePayload = Type.Object({
  roomId: Id,
  content: Content,
  type: Type.Optional(ChannelMessageType),
  clientMessageId: Type.Optional(ClientMessageId)
})
export const ChannelTypingPayload = Type.Object({ roomId: Id, isTyping: Type.Boolean() })

// ---- server → client ---------------------------------------------------------------------

export const OnlineMember = Type.Object({ userId: Type.String(), userName: Type.String() })

/** Seed 001 `message_received` (also each item of the group history). `user` repeats `sender`. */
export const GroupMessage = Type.Object({
  id: Type.String(),
  groupId: Type.String(),
  seq: Type.Integer(),
  sender: Type.Object({ id: Nullable(Type.String()), name: Type.String() }),
  user: Type.Object({ id: Nullable(Type.String()), name: Type.String() }),
  content: Type.String(),
  type: Type.String(),
  replyToId: Nullable(Type.String()),
  clientMessageId: Nullable(Type.String()),
  createdAt: IsoDate,
  // issue 21, in histories once the message changed
  ...changedMessageFields
}, {
  examples: [{
    id: 'a8f5f167-6a3c-4b1e-9d2f-3c4b5a6d7e8f',
    groupId: GROUP_ID,
    seq: 42,
    sender: { id: ALICE, name: 'Alice' },
    user: { id: ALICE, name: 'Alice' },
    content: 'See you at eight!',
    type: 'text',
    replyToId: null,
    clientMessageId: 'c-1717000000000-1',
    createdAt: '2026-05-04T18:32:05.000Z'
  }]
})

export const JoinedGroupSuccess = Type.Object({
  groupId: Type.String(),
  memberCount: Type.Integer(),
  onlineCount: Type.Integer(),
  onlineMembers: Type.Array(OnlineMember)
})

export const RoomInfo = Type.Object({
  groupId: Type.String(),
  onlineCount: Type.Integer(),
  onlineUserIds: Type.Array(Type.String()),
  socketCount: Type.Integer()
})

/** Seed 003 `new_message`. */
export const CodeRoomMessage = Type.Object({
  _id: Type.String(),
  content: Type.String(),
  sender: Type.Object({ _id: Type.String(), username: Type.String(), isOnline: Type.Boolean() }),
  room: Type.String(),
  messageType: Type.String(),
  createdAt: IsoDate,
  isEdited: Type.Boolean()
})

/** Seed 004 `message` (also each item of the channel history). */
export const ChannelMessage = Type.Object({
  id: Type.String(),
  roomId: Type.String(),
  seq: Type.Integer(),
  userId: Nullable(Type.String()),
  username: Type.String(),
  content: Type.String(),
  type: Type.String(),
  timestamp: IsoDate,
  // issue 21, in histories once the message changed
  ...changedMessageFields
}, {
  examples: [{
    id: 'b7e6d5c4-3a2b-4c1d-8e9f-0a1b2c3d4e5f',
    roomId: CHANNEL_ID,
    seq: 7,
    userId: ALICE,
    username: 'alice',
    content: 'Deploy is green',
    type: 'text',
    timestamp: '2026-05-04T18:33:00.000Z'
  }]
})

// ---- presence that scales (issue 17) --------------------------------------------------------

/** `presence:subscribe` / `presence:unsubscribe`: whose `user:status` this socket gets (PRESENCE_WATCHLIST_MAX in all). */
export const PresenceUsersPayload = Type.Object({ userIds: Type.Array(Id, { maxItems: 1000 }) })
export const UserStatusValue = Type.Union([Type.Literal('online'), Type.Literal('offline')])
/** The ack of `presence:subscribe`: each user's status now. */
export const PresenceSubscribeReply = Type.Object({
  ok: Type.Literal(true),
  statuses: Type.Array(Type.Object({ userId: Type.String(), status: UserStatusValue }))
})

// ---- REST --------------------------------------------------------------------------------

export const GroupParams = Type.Object({ id: Id })
export const GroupMemberParams = Type.Object({ id: Id, userId: Id })

export const CreateGroupBody = Type.Object({
  name: Text({ minLength: 1, maxLength: 100 }),
  description: Type.Optional(Text({ maxLength: 1000 })),
  isPrivate: Type.Optional(Type.Boolean())
}, { additionalProperties: false, examples: [{ name: 'Book club', description: 'One chapter a week', isPrivate: true }] })

const Role = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')])

export const AddMemberBody = Type.Object({
  userId: Id,
  /** Seed 001's client sends `MEMBER`; case does not matter. */
  role: Type.Optional(Type.String({ pattern: '^([Mm][Ee][Mm][Bb][Ee][Rr]|[Aa][Dd][Mm][Ii][Nn])$' })),
  /** For users of an embedding app that are not registered here. */
  userName: Type.Optional(Name)
}, { additionalProperties: false, examples: [{ userId: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', role: 'member' }] })

export const Group = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  isPrivate: Type.Boolean(),
  createdBy: Nullable(Type.String()),
  createdAt: IsoDate,
  memberCount: Type.Integer(),
  /** The caller's role. */
  role: Role,
  lastSeq: Type.Integer()
}, {
  examples: [{
    id: GROUP_ID,
    name: 'Book club',
    description: 'One chapter a week',
    isPrivate: true,
    createdBy: ALICE,
    createdAt: '2026-05-01T09:00:00.000Z',
    memberCount: 3,
    role: 'owner',
    lastSeq: 42
  }]
})

export const Member = Type.Object({
  userId: Type.String(),
  userName: Type.String(),
  role: Role,
  joinedAt: IsoDate
}, { examples: [{ userId: ALICE, userName: 'Alice', role: 'owner', joinedAt: '2026-05-01T09:00:00.000Z' }] })

export const HistoryQuery = Type.Object({
  /** Cursor: only messages with a smaller `seq` (the previous page's `nextCursor`). */
  before: Type.Optional(Seq),
  limit: Type.Optional(PageLimit)
}, { additionalProperties: false })

export const GroupPresence = Type.Object({
  groupId: Type.String(),
  onlineCount: Type.Integer(),
  onlineUserIds: Type.Array(Type.String()),
  socketCount: Type.Integer(),
  onlineMembers: Type.Array(OnlineMember)
}, { examples: [{ groupId: GROUP_ID, onlineCount: 1, onlineUserIds: [ALICE], socketCount: 2, onlineMembers: [{ userId: ALICE, userName: 'Alice' }] }] })

export const CreateChannelBody = Type.Object({
  name: Text({ minLength: 1, maxLength: 100 }),
  namespace: Type.Optional(Text({ minLength: 1, maxLength: 64 })),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown()))
}, { additionalProperties: false, examples: [{ name: 'deploys', namespace: 'team-a', metadata: { topic: 'CI and releases' } }] })

/** `GET /api/groups`: a page of the caller's groups. */
export const PageQuery = Type.Object({
  limit: Type.Optional(PageLimit),
  cursor: Type.Optional(Cursor)
}, { additionalProperties: false })

export const ChannelListQuery = Type.Object({
  namespace: Type.Optional(Text({ minLength: 1, maxLength: 64 })),
  limit: Type.Optional(PageLimit),
  cursor: Type.Optional(Cursor)
}, { additionalProperties: false })

export const Channel = Type.Object({
  id: Type.String(),
  name: Type.String(),
  namespace: Type.String(),
  createdBy: Nullable(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdAt: IsoDate,
  lastActivityAt: IsoDate,
  lastSeq: Type.Integer()
}, {
  examples: [{
    id: CHANNEL_ID,
    name: 'deploys',
    namespace: 'team-a',
    createdBy: ALICE,
    metadata: { topic: 'CI and releases' },
    createdAt: '2026-05-01T09:00:00.000Z',
    lastActivityAt: '2026-05-04T18:33:00.000Z',
    lastSeq: 7
  }]
})
/** A channel in a list: no metadata (GET /api/channels/:id has it). */
export const ChannelListItem = Type.Omit(Channel, ['metadata'], { examples: examplesWithoutMetadata(Channel) })

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse }

export const groupRouteSchemas = {
  create: route('groups', 'Create a group (the caller owns it)', { body: CreateGroupBody, response: { 201: Type.Object({ group: Group }), ...errors } }, bearerAuth),
  list: route('groups', "The caller's groups, oldest first, by cursor", {
    querystring: PageQuery,
    response: { 200: Type.Object({ groups: Type.Array(Group), nextCursor: NextCursor }), ...errors }
  }, bearerAuth),
  get: route('groups', 'A group and its members', { params: GroupParams, response: { 200: Type.Object({ group: Group, members: Type.Array(Member) }), ...errors } }, bearerAuth),
  remove: route('groups', 'Delete a group (its owner)', { params: GroupParams, response: { 204: Type.Null(), ...errors } }, bearerAuth),
  addMember: route('groups', 'Add a member (owner or admin)', {
    params: GroupParams,
    body: AddMemberBody,
    response: { 200: Type.Object({ member: Member }), 201: Type.Object({ member: Member }), ...errors }
  }, bearerAuth),
  removeMember: route('groups', 'Remove a member, or leave', { params: GroupMemberParams, response: { 204: Type.Null(), ...errors } }, bearerAuth),
  messages: route('groups', 'Group history, newest first, by cursor', {
    params: GroupParams,
    querystring: HistoryQuery,
    response: { 200: Type.Object({ messages: Type.Array(GroupMessage), nextCursor: Nullable(Type.Integer()) }), ...errors }
  }, bearerAuth),
  presence: route('groups', 'Who is online in a group', { params: GroupParams, response: { 200: GroupPresence, ...errors } }, bearerAuth)
}

export const channelRouteSchemas = {
  create: route('channels', 'Create a channel', { body: CreateChannelBody, response: { 201: Type.Object({ channel: Channel }), ...errors } }, bearerAuth),
  list: route('channels', 'List channels (optionally of one namespace), oldest first, by cursor', {
    querystring: ChannelListQuery,
    response: { 200: Type.Object({ channels: Type.Array(ChannelListItem), nextCursor: NextCursor }), ...errors }
  }, bearerAuth),
  get: route('channels', 'A channel and how many are online in it', { params: GroupParams, response: { 200: Type.Object({ channel: Channel, onlineCount: Type.Integer({ examples: [2] }) }), ...errors } }, bearerAuth),
  messages: route('channels', 'Channel history, newest first, by cursor', {
    params: GroupParams,
    querystring: HistoryQuery,
    response: { 200: Type.Object({ messages: Type.Array(ChannelMessage), nextCursor: Nullable(Type.Integer()) }), ...errors }
  }, bearerAuth)
}

/* eslint-disable @typescript-eslint/no-redeclare -- a schema and its static type share a name */
export type GroupSendPayload = Static<typeof GroupSendPayload>
export type CodeSendPayload = Static<typeof CodeSendPayload>
export type SendMessagePayload = Static<typeof SendMessagePayload>
export type TypingPayload = Static<typeof TypingPayload>
export type ChannelMessagePayload = Static<typeof ChannelMessagePayload>
export type ChannelMessageType = Static<typeof ChannelMessageType>
export type GroupMessage = Static<typeof GroupMessage>
export type CodeRoomMessage = Static<typeof CodeRoomMessage>
export type ChannelMessage = Static<typeof ChannelMessage>
export type OnlineMember = Static<typeof OnlineMember>
export type JoinedGroupSuccess = Static<typeof JoinedGroupSuccess>
export type RoomInfo = Static<typeof RoomInfo>
export type Group = Static<typeof Group>
export type Member = Static<typeof Member>
export type Channel = Static<typeof Channel>
export type ChannelListItem = Static<typeof ChannelListItem>
export type GroupPresence = Static<typeof GroupPresence>
/* eslint-enable @typescript-eslint/no-redeclare */

// ---- replay beyond the recovery window (issue 18, CONTRACT §12) ---------------------------

/** The last seq a client has of a room; the join replays what was stored after it. */
const SinceSeq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
/** Seed 001's `join_group`: `groupId`, or `{groupId, sinceSeq?}`. */
export const JoinGroupPayload = Type.Union([Id, Type.Object({ groupId: Id, sinceSeq: Type.Optional(SinceSeq) })])
/** Seed 004's `room:join {roomId, sinceSeq?}` (`{roomId}` alone as before). */
export const ChannelJoinPayload = Type.Object({ roomId: Id, sinceSeq: Type.Optional(SinceSeq) })
const ReplayRange = {
  /** The first seq replayed (`toSeq + 1` when nothing was missed). */
  fromSeq: Type.Integer({ minimum: 0 }),
  /** The last seq replayed (`sinceSeq` when nothing was missed): live messages follow it. */
  toSeq: Type.Integer({ minimum: 0 }),
  /** false: more were missed than HISTORY_REPLAY_MAX; fetch those before `fromSeq` over REST. */
  complete: Type.Boolean()
}
/** After the replayed messages, to the joining socket alone. */
export const HistoryReplayed = Type.Union([
  Type.Object({ groupId: Type.String(), ...ReplayRange }),
  Type.Object({ roomId: Type.String(), ...ReplayRange })
])
// eslint-disable-next-line @typescript-eslint/no-redeclare -- a schema and its static type share a name
export type HistoryReplayed = Static<typeof HistoryReplayed>
