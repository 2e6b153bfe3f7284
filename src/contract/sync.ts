import Type, { type Static } from 'typebox'
import { bearerAuth, ErrorResponse, route, Text } from './common.js'

/**
 * CONTRACT §5 (seed 002): watch-party rooms joined by an 8-character code, the `/sync`
 * namespace's payloads, and the typed event maps a client can use.
 */

// ---- REST ------------------------------------------------------------------------------

export const CreateSyncRoomBodySchema = Type.Object({
  name: Text({ minLength: 1, maxLength: 100 }),
  password: Type.Optional(Text({ minLength: 1, maxLength: 256 })),
  maxParticipants: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  mediaUrl: Type.Optional(Text({ minLength: 1, maxLength: 2048 }))
}, { additionalProperties: false, examples: [{ name: 'Movie night', password: 'popcorn', maxParticipants: 10, mediaUrl: 'https://example.com/film.mp4' }] })

/** A room as clients see it: never the password hash, only whether there is one. */
export const SyncRoomSchema = Type.Object({
  id: Type.String(),
  code: Type.String(),
  name: Type.String(),
  hasPassword: Type.Boolean(),
  maxParticipants: Type.Integer(),
  mediaUrl: Type.Union([Type.String(), Type.Null()]),
  ownerId: Type.String(),
  createdAt: Type.String(),
  lastActivityAt: Type.String(),
  expiresAt: Type.String()
}, {
  examples: [{
    id: '9b2d7e4a-1c3f-4a5b-8d6e-0f1a2b3c4d5e',
    code: 'K7M2Q9XZ',
    name: 'Movie night',
    hasPassword: true,
    maxParticipants: 10,
    mediaUrl: 'https://example.com/film.mp4',
    ownerId: '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b',
    createdAt: '2026-05-04T18:30:00.000Z',
    lastActivityAt: '2026-05-04T18:45:00.000Z',
    expiresAt: '2026-05-05T18:45:00.000Z'
  }]
})

export const RoomCodeParamsSchema = Type.Object({
  code: Text({ minLength: 1, maxLength: 64 })
})

export const syncRouteSchemas = {
  create: route('sync', 'Create a watch-party room; answers its join code', {
    body: CreateSyncRoomBodySchema,
    response: { 201: SyncRoomSchema, 400: ErrorResponse, 401: ErrorResponse }
  }, bearerAuth),
  get: route('sync', 'A watch-party room by its code', {
    params: RoomCodeParamsSchema,
    response: { 200: SyncRoomSchema, 404: ErrorResponse }
  }),
  delete: route('sync', 'Delete a watch-party room (its owner)', {
    params: RoomCodeParamsSchema,
    response: { 204: Type.Null(), 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse }
  }, bearerAuth)
}

// ---- Socket payloads, client → server --------------------------------------------------

export const JoinRoomPayloadSchema = Type.Object({
  roomCode: Text({ minLength: 1, maxLength: 64 }),
  password: Type.Optional(Text({ maxLength: 256 })),
  /** Required for guests (no token); ignored for registered users. */
  guestName: Type.Optional(Text({ maxLength: 64 })),
  /** A guest's `resumeToken` from `room:state`: rejoining with it keeps the same participant. */
  resumeToken: Type.Optional(Text({ maxLength: 128 }))
})

/** `room:leave {}`; a bare `room:leave` (no payload) is accepted too. */
export const LeaveRoomPayloadSchema = Type.Union([Type.Object({}), Type.Undefined(), Type.Null()])

export const PlaybackActionSchema = Type.Union([
  Type.Literal('play'), Type.Literal('pause'), Type.Literal('seek'), Type.Literal('rate'), Type.Literal('media')
])

/** `seek` needs `position`, `rate` needs `rate`, `media` needs `mediaUrl` (null clears it). */
export const PlaybackUpdatePayloadSchema = Type.Object({
  action: PlaybackActionSchema,
  /** Seconds into the media. */
  position: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9 })),
  rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 16 })),
  mediaUrl: Type.Optional(Type.Union([Text({ minLength: 1, maxLength: 2048 }), Type.Null()]))
})

export const SyncTimePayloadSchema = Type.Object({
  clientTime: Type.Number({ minimum: -1e15, maximum: 1e15 })
})

// ---- Socket payloads, server → client --------------------------------------------------

export const ParticipantSchema = Type.Object({
  id: Type.String(),
  /** The registered user's id; null for a guest. */
  userId: Type.Union([Type.String(), Type.Null()]),
  displayName: Type.String(),
  isGuest: Type.Boolean(),
  isHost: Type.Boolean(),
  joinedAt: Type.String()
})

export const PlaybackStateSchema = Type.Object({
  status: Type.Union([Type.Literal('playing'), Type.Literal('paused')]),
  /** Seconds into the media at `updatedAt`; while playing, now's position is
   * `position + (serverNow - updatedAt) / 1000 * rate`. */
  position: Type.Number(),
  rate: Type.Number(),
  mediaUrl: Type.Union([Type.String(), Type.Null()]),
  /** Server clock, ms since the epoch (see `sync:time` for the offset). */
  updatedAt: Type.Number(),
  /** The participant id of whoever changed it. */
  updatedBy: Type.Union([Type.String(), Type.Null()])
})

export const RoomStatePayloadSchema = Type.Object({
  room: SyncRoomSchema,
  participants: Type.Array(ParticipantSchema),
  playback: Type.Union([PlaybackStateSchema, Type.Null()]),
  /** Which participant this socket is. */
  participantId: Type.String(),
  /** Guests only: send it back in `room:join` to resume the same participant from a new socket. */
  resumeToken: Type.Optional(Type.String())
})

export const ParticipantJoinedPayloadSchema = Type.Object({ participant: ParticipantSchema })

/** `oderId` is seed 002's spelling, kept so its clients work; same value as `participantId`. */
export const ParticipantLeftPayloadSchema = Type.Object({
  participantId: Type.String(),
  userId: Type.Union([Type.String(), Type.Null()]),
  oderId: Type.String()
})

/** The room was deleted by its owner or expired; a `room:error ROOM_NOT_FOUND` follows. */
export const RoomClosedPayloadSchema = Type.Object({
  roomCode: Type.String(),
  reason: Type.Union([Type.Literal('deleted'), Type.Literal('expired')])
})

export const SyncTimeReplySchema = Type.Object({ clientTime: Type.Number(), serverTime: Type.Number() })

export type CreateSyncRoomBody = Static<typeof CreateSyncRoomBodySchema>
export type SyncRoom = Static<typeof SyncRoomSchema>
export type JoinRoomPayload = Static<typeof JoinRoomPayloadSchema>
export type PlaybackAction = Static<typeof PlaybackActionSchema>
export type PlaybackUpdatePayload = Static<typeof PlaybackUpdatePayloadSchema>
export type Participant = Static<typeof ParticipantSchema>
export type PlaybackState = Static<typeof PlaybackStateSchema>
export type RoomStatePayload = Static<typeof RoomStatePayloadSchema>
export type ParticipantJoinedPayload = Static<typeof ParticipantJoinedPayloadSchema>
export type ParticipantLeftPayload = Static<typeof ParticipantLeftPayloadSchema>
export type RoomClosedPayload = Static<typeof RoomClosedPayloadSchema>
export type SyncTimeReply = Static<typeof SyncTimeReplySchema>
export type SyncErrorPayload = Static<typeof ErrorResponse>

type Ack<T> = (reply: T | { ok: false, error: SyncErrorPayload }) => void

/** Events a `/sync` client sends (each may take an ack callback). */
export interface SyncClientEvents {
  'room:join': (payload: JoinRoomPayload, ack?: Ack<RoomStatePayload & { ok: true }>) => void
  'room:leave': (payload?: Record<string, never>, ack?: Ack<{ ok: true }>) => void
  'playback:update': (payload: PlaybackUpdatePayload, ack?: Ack<PlaybackState>) => void
  'sync:time': (payload: { clientTime: number }, ack: Ack<SyncTimeReply>) => void
}

/** Events the `/sync` namespace sends. */
export interface SyncServerEvents {
  'room:state': (payload: RoomStatePayload) => void
  'room:participant:joined': (payload: ParticipantJoinedPayload) => void
  'room:participant:left': (payload: ParticipantLeftPayload) => void
  'room:closed': (payload: RoomClosedPayload) => void
  'room:error': (payload: SyncErrorPayload) => void
  'playback:state': (payload: PlaybackState) => void
}
