import Type, { type Static, type TSchema } from 'typebox'
import { adminAuth, Cursor, ErrorResponse, NextCursor, Offset, PageLimit, route, Text } from './common.js'
import { examplesWithoutMetadata } from './metadata.js'
import { ChannelMessage } from './chat.js'

/**
 * CONTRACT §7: admin REST over the service API. Every route needs an admin JWT (role `admin`)
 * or `x-api-key: ADMIN_API_KEY`.
 *
 * Error codes (status in brackets): `UNAUTHORIZED` (401) no credentials, `INVALID_TOKEN` (401),
 * `FORBIDDEN` (403) a valid token without the admin role, `INVALID_REQUEST` (400) a body or
 * query that fails its schema, a reserved event name (`connect`, `disconnect`, ...), content
 * that is empty after trimming, `MESSAGE_TOO_LONG` (400), `ROOM_NOT_FOUND` (404),
 * `RATE_LIMITED` (429), `INTERNAL_ERROR` (500).
 */

const Id = Text({ minLength: 1, maxLength: 100 })
const IsoDate = Type.String({ format: 'date-time' })
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const Metadata = Type.Record(Type.String(), Type.Unknown())
const EventName = Text({ minLength: 1, maxLength: 100 })
const SocketIds = Type.Array(Text({ minLength: 1, maxLength: 100 }), { maxItems: 1000 })

export const RoomParams = Type.Object({ id: Id })
export const UserParams = Type.Object({ id: Id })

export const CreateRoomBody = Type.Object({
  name: Text({ minLength: 1, maxLength: 100 }),
  namespace: Type.Optional(Text({ minLength: 1, maxLength: 64 })),
  /** A user id; an admin JWT's own id when left out. */
  createdBy: Type.Optional(Id),
  metadata: Type.Optional(Metadata)
}, { additionalProperties: false, examples: [{ name: 'support', namespace: 'helpdesk', metadata: { tier: 'gold' } }] })

export const ListRoomsQuery = Type.Object({
  namespace: Type.Optional(Text({ minLength: 1, maxLength: 64 })),
  limit: Type.Optional(PageLimit),
  cursor: Type.Optional(Cursor)
}, { additionalProperties: false })

export const MessagesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  /** How many of the newest messages to skip. */
  offset: Type.Optional(Offset)
}, { additionalProperties: false })

export const AdminRoom = Type.Object({
  id: Type.String(),
  name: Type.String(),
  namespace: Type.String(),
  createdBy: Nullable(Type.String()),
  metadata: Metadata,
  createdAt: IsoDate,
  lastActivity: IsoDate,
  /** Ids of the users in the room now. */
  members: Type.Array(Type.String()),
  memberCount: Type.Integer()
}, {
  examples: [{
    id: 'e4d3c2b1-a0f9-4e8d-9c7b-6a5f4e3d2c1b',
    name: 'support',
    namespace: 'helpdesk',
    createdBy: '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b',
    metadata: { tier: 'gold' },
    createdAt: '2026-05-01T09:00:00.000Z',
    lastActivity: '2026-05-04T18:33:00.000Z',
    members: ['3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b'],
    memberCount: 1
  }]
})

/** A room in a list: no metadata (GET /api/rooms/:id has it). */
export const AdminRoomListItem = Type.Omit(AdminRoom, ['metadata'], { examples: examplesWithoutMetadata(AdminRoom) })

export const AdminRoomMember = Type.Object({
  userId: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  sockets: Type.Integer()
}, { examples: [{ userId: '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b', username: 'alice', displayName: 'Alice', sockets: 2 }] })

export const AdminMessage = Type.Object({
  ...ChannelMessage.properties,
  metadata: Nullable(Metadata)
}, { examples: [{ ...(ChannelMessage as unknown as { examples: object[] }).examples[0], metadata: null }] })

export const AdminRoomStats = Type.Object({
  roomId: Type.String(),
  name: Type.String(),
  memberCount: Type.Integer(),
  socketCount: Type.Integer(),
  messageCount: Type.Integer(),
  createdAt: IsoDate,
  lastActivity: IsoDate
}, {
  examples: [{
    roomId: 'e4d3c2b1-a0f9-4e8d-9c7b-6a5f4e3d2c1b',
    name: 'support',
    memberCount: 1,
    socketCount: 2,
    messageCount: 128,
    createdAt: '2026-05-01T09:00:00.000Z',
    lastActivity: '2026-05-04T18:33:00.000Z'
  }]
})

export const AdminStats = Type.Object({
  totalConnections: Type.Integer(),
  activeConnections: Type.Integer(),
  onlineUsers: Type.Integer(),
  totalRooms: Type.Integer(),
  totalMessages: Type.Integer()
}, { examples: [{ totalConnections: 1523, activeConnections: 87, onlineUsers: 64, totalRooms: 12, totalMessages: 40210 }] })

/** `target` says who gets `event` with `data`: a room's sockets, some users' sockets, or everyone on `/`. */
export const BroadcastBody = Type.Union([
  Type.Object({
    target: Type.Literal('room'),
    roomId: Id,
    event: EventName,
    data: Type.Unknown(),
    except: Type.Optional(SocketIds)
  }, { additionalProperties: false }),
  Type.Object({
    target: Type.Literal('users'),
    userIds: Type.Array(Id, { minItems: 1, maxItems: 1000 }),
    event: EventName,
    data: Type.Unknown()
  }, { additionalProperties: false }),
  Type.Object({
    target: Type.Literal('all'),
    event: EventName,
    data: Type.Unknown(),
    except: Type.Optional(SocketIds)
  }, { additionalProperties: false })
], { examples: [{ target: 'room', roomId: 'e4d3c2b1-a0f9-4e8d-9c7b-6a5f4e3d2c1b', event: 'announcement', data: { text: 'Maintenance at 22:00 UTC' } }] })

export const DisconnectBody = Type.Union([
  Type.Object({ reason: Type.Optional(Text({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false }),
  Type.Null()
])

const Ok = Type.Object({ ok: Type.Literal(true) })
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse }

export const adminRouteSchemas = {
  createRoom: route('admin', 'Create a room (channel)', { body: CreateRoomBody, response: { 201: Type.Object({ room: AdminRoom }), ...errors } }, adminAuth),
  listRooms: route('admin', 'List rooms, oldest first, by cursor (items without metadata)', {
    querystring: ListRoomsQuery,
    response: { 200: Type.Object({ rooms: Type.Array(AdminRoomListItem), nextCursor: NextCursor }), ...errors }
  }, adminAuth),
  getRoom: route('admin', 'A room and its members online', {
    params: RoomParams,
    response: { 200: Type.Object({ room: AdminRoom, members: Type.Array(AdminRoomMember) }), ...errors }
  }, adminAuth),
  deleteRoom: route('admin', 'Delete a room', { params: RoomParams, response: { 204: Type.Null(), ...errors } }, adminAuth),
  messages: route('admin', "A room's messages", {
    params: RoomParams,
    querystring: MessagesQuery,
    response: { 200: Type.Object({ messages: Type.Array(AdminMessage) }), ...errors }
  }, adminAuth),
  roomStats: route('admin', "A room's statistics", { params: RoomParams, response: { 200: AdminRoomStats, ...errors } }, adminAuth),
  broadcast: route('admin', 'Emit an event to a room, some users or everyone on `/`', { body: BroadcastBody, response: { 200: Ok, ...errors } }, adminAuth),
  stats: route('admin', 'Connection, user, room and message counts', { response: { 200: AdminStats, ...errors } }, adminAuth),
  disconnectUser: route('admin', 'Disconnect every socket of a user', {
    params: UserParams,
    body: DisconnectBody,
    response: { 200: Type.Object({ ok: Type.Literal(true), disconnected: Type.Integer({ examples: [2] }) }), ...errors }
  }, adminAuth)
}

/* eslint-disable @typescript-eslint/no-redeclare -- a schema and its static type share a name */
export type CreateRoomBody = Static<typeof CreateRoomBody>
export type BroadcastBody = Static<typeof BroadcastBody>
export type AdminRoom = Static<typeof AdminRoom>
export type AdminRoomListItem = Static<typeof AdminRoomListItem>
export type AdminRoomMember = Static<typeof AdminRoomMember>
export type AdminMessage = Static<typeof AdminMessage>
export type AdminRoomStats = Static<typeof AdminRoomStats>
export type AdminStats = Static<typeof AdminStats>
/* eslint-enable @typescript-eslint/no-redeclare */
