import Type, { type Static, type TSchema } from 'typebox'
import { adminAuth, Cursor, ErrorResponse, NextCursor, PageLimit, route, Text } from './common.js'

/**
 * Issue 21, moderation. On `/` (groups: `groupId`, channels: `roomId`) a room's owner or admins
 * (chat_members.role; a channel's creator is its owner) send `kick`, `ban`, `mute`, `unban`,
 * `unmute {groupId | roomId, userId, until?, reason?}`; the target's sockets get `moderated`.
 * Admin REST does the same for every kind of room (`group`, `channel`, `public`, `sync`).
 *
 * Error codes: INVALID_REQUEST (schema; `until` not in the future, or given to kick/unban/unmute;
 * acting on oneself), ROOM_NOT_FOUND, NOT_A_MEMBER (the actor or the target is not in the group),
 * FORBIDDEN (the actor's role may not act on the target: members may not moderate, admins not
 * the owner or other admins, no one the owner), BANNED (403: a join refused while banned),
 * MUTED (403: a send refused while muted; nothing is stored or delivered).
 */

const Id = Text({ minLength: 1, maxLength: 100 })
const IsoDate = Type.String({ format: 'date-time' })
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const Reason = Text({ maxLength: 500 })
const ALICE = '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b'
const BOB = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d'
const GROUP_ID = 'd1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6'

export const ModerationActionName = Type.Union([
  Type.Literal('kick'), Type.Literal('ban'), Type.Literal('unban'), Type.Literal('mute'), Type.Literal('unmute')
])
export const ModeratedKind = Type.Union([Type.Literal('group'), Type.Literal('channel'), Type.Literal('public'), Type.Literal('sync')])

// ---- socket, `/` ------------------------------------------------------------------------------

const target = { userId: Id, reason: Type.Optional(Reason) }
const sanction = { ...target, until: Type.Optional(IsoDate) }
/** `kick`, `unban`, `unmute`. */
export const ModerationTargetPayload = Type.Union([
  Type.Object({ groupId: Id, ...target }),
  Type.Object({ roomId: Id, ...target })
])
/** `ban`, `mute`: `until` (ISO 8601, in the future) ends it by itself; left out, until lifted. */
export const SanctionPayload = Type.Union([
  Type.Object({ groupId: Id, ...sanction }),
  Type.Object({ roomId: Id, ...sanction })
])
const outcome = { action: ModerationActionName, userId: Type.String(), until: Nullable(Type.String()) }
export const ModerationReply = Type.Union([
  Type.Object({ ok: Type.Literal(true), groupId: Type.String(), ...outcome }),
  Type.Object({ ok: Type.Literal(true), roomId: Type.String(), ...outcome })
])
const notice = { action: ModerationActionName, until: Nullable(Type.String()), reason: Nullable(Type.String()) }
/** To the target's sockets (kick, ban: those in the room, just before they leave it; else all of them). */
export const ModeratedNotice = Type.Union([
  Type.Object({ groupId: Type.String(), ...notice }),
  Type.Object({ roomId: Type.String(), ...notice })
])

/** `/public-room/:roomId` and `/sync`: to the target's sockets in the room, before they are removed. */
export const RoomModeratedNotice = Type.Object({ roomId: Type.String(), ...notice })
/** `/sync` `room:kick {participantId}`: the host removes a participant. */
export const SyncKickPayload = Type.Object({ participantId: Id, reason: Type.Optional(Reason) })

// ---- admin REST ---------------------------------------------------------------------------------

export const ModerationParams = Type.Object({ kind: ModeratedKind, roomId: Id })
export const ModerateBody = Type.Object({
  /** The target: a user id (public rooms: the anonymous user's id; sync rooms: a user id or a participant id). */
  userId: Id,
  until: Type.Optional(IsoDate),
  reason: Type.Optional(Reason)
}, { additionalProperties: false, examples: [{ userId: BOB, until: '2026-12-01T15:00:00.000Z', reason: 'spam' }] })

export const ModerationActionView = Type.Object({
  id: Type.String(),
  action: ModerationActionName,
  roomKind: ModeratedKind,
  roomId: Type.String(),
  targetUserId: Type.String(),
  /** null: the admin API key. */
  actorId: Nullable(Type.String()),
  actorKind: Type.Union([Type.Literal('member'), Type.Literal('admin')]),
  until: Nullable(IsoDate),
  reason: Nullable(Type.String()),
  createdAt: IsoDate
}, {
  examples: [{
    id: '7c6b5a49-3828-4716-9504-f3e2d1c0b9a8',
    action: 'ban',
    roomKind: 'group',
    roomId: GROUP_ID,
    targetUserId: BOB,
    actorId: ALICE,
    actorKind: 'member',
    until: '2026-12-01T15:00:00.000Z',
    reason: 'spam',
    createdAt: '2026-12-01T14:00:00.000Z'
  }]
})

export const ActionsQuery = Type.Object({
  kind: Type.Optional(ModeratedKind),
  /** With `kind`: the actions in one room. */
  roomId: Type.Optional(Id),
  limit: Type.Optional(PageLimit),
  cursor: Type.Optional(Cursor)
}, { additionalProperties: false })

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse }
const act = (summary: string) => route('moderation', summary, {
  params: ModerationParams,
  body: ModerateBody,
  response: { 200: Type.Object({ action: ModerationActionView }), ...errors }
}, adminAuth)

export const moderationRouteSchemas = {
  kick: act('Kick a user: all their sockets leave the room now, on every instance'),
  ban: act('Ban a user: kicked, and joins refused (BANNED) until `until` or an unban'),
  mute: act('Mute a user: their messages are refused (MUTED) until `until` or an unmute (groups and channels)'),
  unban: act('Lift a ban'),
  unmute: act('Lift a mute'),
  actions: route('moderation', 'The moderation audit log, oldest first, by cursor', {
    querystring: ActionsQuery,
    response: { 200: Type.Object({ actions: Type.Array(ModerationActionView), nextCursor: NextCursor }), ...errors }
  }, adminAuth)
}

/* eslint-disable @typescript-eslint/no-redeclare -- a schema and its static type share a name */
export type ModerationTargetPayload = Static<typeof ModerationTargetPayload>
export type SanctionPayload = Static<typeof SanctionPayload>
export type ModerationReply = Static<typeof ModerationReply>
export type ModeratedNotice = Static<typeof ModeratedNotice>
export type ModerationActionView = Static<typeof ModerationActionView>
/* eslint-enable @typescript-eslint/no-redeclare */
