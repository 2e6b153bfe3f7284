import Type, { type Static } from 'typebox'
import { bearerAuth, Cursor, ErrorResponse, NextCursor, Offset, PageLimit, route, Text } from './common.js'

/** CONTRACT §4 / seed 000: public rooms, their anonymous users and the `/public-room/:roomId` namespace. */

/** Every code a public-room client can see (the seed's eight, plus ROOM_FULL shared with REST). */
export const PublicRoomErrorCode = {
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  CONNECTION_ERROR: 'CONNECTION_ERROR',
  INVALID_REQUEST: 'INVALID_REQUEST',
  INVALID_USER: 'INVALID_USER',
  ROOM_NOT_FOUND: 'ROOM_NOT_FOUND',
  ROOM_FULL: 'ROOM_FULL',
  JOIN_ERROR: 'JOIN_ERROR',
  LEAVE_ERROR: 'LEAVE_ERROR',
  CONNECTION_TIMEOUT: 'CONNECTION_TIMEOUT',
  /** Issue 21: `join-room` of a user banned from the room. */
  BANNED: 'BANNED'
} as const

const EXAMPLE_ROOM = { id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', name: 'Lobby', capacity: 50, createdBy: '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b', createdAt: '2026-05-04T18:30:00.000Z', currentOccupancy: 3 }
const EXAMPLE_USER = { userId: 'anon_5f3c2a1b', userName: 'Guest 42' }

// A non-blank text: at least one character that is not white space (the handler trims it).
const Words = (maxLength: number) => Text({ minLength: 1, maxLength, nonBlank: true })

export const PublicRoom = Type.Object({
  id: Type.String(),
  name: Type.String(),
  capacity: Type.Integer(),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  /** Distinct users connected to the room's namespace and joined, on every instance. */
  currentOccupancy: Type.Integer({ minimum: 0 })
}, { examples: [EXAMPLE_ROOM] })

export const CreateRoomBody = Type.Object({
  name: Words(100),
  capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 }))
}, { examples: [{ name: 'Lobby', capacity: 50 }] })

export const RoomParams = Type.Object({ roomId: Text({ minLength: 1, maxLength: 100 }) })

export const ListRoomsQuery = Type.Object({
  limit: Type.Optional(PageLimit),
  /** Kept for older clients; `cursor` (the previous page's `nextCursor`) is the way to page. */
  offset: Type.Optional(Offset),
  cursor: Type.Optional(Cursor)
})

export const RoomList = Type.Object({ rooms: Type.Array(PublicRoom), nextCursor: NextCursor }, { examples: [{ rooms: [EXAMPLE_ROOM], nextCursor: null }] })

export const CreateUserBody = Type.Object({ userName: Words(64) }, { examples: [{ userName: 'Guest 42' }] })

export const AnonymousUser = Type.Object({ userId: Type.String(), userName: Type.String() }, { examples: [EXAMPLE_USER] })

export const MembershipBody = Type.Object({ userId: Text({ minLength: 1, maxLength: 100 }) }, { examples: [{ userId: EXAMPLE_USER.userId }] })

export const JoinReply = Type.Object({
  room: PublicRoom,
  member: Type.Object({ userId: Type.String(), userName: Type.String(), joinedAt: Type.String({ format: 'date-time' }) })
}, { examples: [{ room: EXAMPLE_ROOM, member: { ...EXAMPLE_USER, joinedAt: '2026-05-04T18:31:12.000Z' } }] })

export const LeaveReply = Type.Object({
  /** false when the user was neither a member nor present (leaving twice is not an error). */
  left: Type.Boolean(),
  room: PublicRoom
}, { examples: [{ left: true, room: { ...EXAMPLE_ROOM, currentOccupancy: 2 } }] })

export const ParticipantsQuery = Type.Object({
  limit: Type.Optional(PageLimit),
  /** The previous page's `nextCursor`: participants whose user id sorts after it. */
  cursor: Type.Optional(Text({ minLength: 1, maxLength: 100 }))
})

/** The users present in the room now (joined on a connected socket), by user id. */
export const ParticipantList = Type.Object({
  participants: Type.Array(AnonymousUser),
  currentOccupancy: Type.Integer({ minimum: 0 }),
  nextCursor: Type.Union([Type.String(), Type.Null()])
}, { examples: [{ participants: [EXAMPLE_USER], currentOccupancy: 1, nextCursor: null }] })

export const publicRoomRouteSchemas = {
  createRoom: route('public rooms', 'Create a public room', { body: CreateRoomBody, response: { 201: PublicRoom, 400: ErrorResponse, 401: ErrorResponse } }, bearerAuth),
  listRooms: route('public rooms', 'List public rooms with their occupancy', { querystring: ListRoomsQuery, response: { 200: RoomList, 400: ErrorResponse } }),
  getRoom: route('public rooms', 'A public room', { params: RoomParams, response: { 200: PublicRoom, 404: ErrorResponse } }),
  participants: route('public rooms', 'Who is in the room now (for a late joiner)', { params: RoomParams, querystring: ParticipantsQuery, response: { 200: ParticipantList, 400: ErrorResponse, 404: ErrorResponse } }),
  createUser: route('public rooms', "Create an anonymous user bound to the caller's IP", { body: CreateUserBody, response: { 201: AnonymousUser, 400: ErrorResponse } }),
  join: route('public rooms', 'Take a seat in a room (from the IP the user was created from)', { params: RoomParams, body: MembershipBody, response: { 200: JoinReply, 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse } }),
  leave: route('public rooms', 'Give the seat back; the user\'s sockets leave the room', { params: RoomParams, body: MembershipBody, response: { 200: LeaveReply, 400: ErrorResponse, 404: ErrorResponse } })
}

// Socket payloads, client → server. Extra fields are allowed: seed clients may send more.

export const JoinRoomPayload = Type.Object({
  userId: Text({ minLength: 1, maxLength: 100 }),
  /** Required as in the seed; the name broadcast is the one the user was created with. */
  userName: Text({ minLength: 1, maxLength: 200 })
})

export const LeaveRoomPayload = Type.Object({ userId: Text({ minLength: 1, maxLength: 100 }) })

/** `pong` carries nothing; whatever a client sends with it is ignored. */
export const PongPayload = Type.Unknown()

// Server → client.

export const UserJoined = Type.Object({
  userId: Type.String(),
  userName: Type.String(),
  joinedAt: Type.String({ format: 'date-time' }),
  currentOccupancy: Type.Integer()
})

export const UserLeft = Type.Object({ userId: Type.String(), currentOccupancy: Type.Integer() })

export type PublicRoomView = Static<typeof PublicRoom>
export type AnonymousUserView = Static<typeof AnonymousUser>
export type UserJoinedEvent = Static<typeof UserJoined>
export type UserLeftEvent = Static<typeof UserLeft>
export type WireError = Static<typeof ErrorResponse>

export interface PublicRoomClientEvents {
  'join-room': (payload: Static<typeof JoinRoomPayload>, ack?: (reply: unknown) => void) => void
  'leave-room': (payload: Static<typeof LeaveRoomPayload>, ack?: (reply: unknown) => void) => void
  pong: () => void
}

export interface PublicRoomServerEvents {
  'user-joined': (payload: UserJoinedEvent) => void
  'user-left': (payload: UserLeftEvent) => void
  ping: () => void
  error: (payload: WireError) => void
}
