import Type, { type Static } from 'typebox'
import { bearerAuth, Cursor, ErrorResponse, NextCursor, PageLimit, route, Seq, Text } from './common.js'

/**
 * Issue 21, read receipts on `/` (groups: seed 001's `groupId`; channels: seed 004's `roomId`).
 * `mark_read {groupId | roomId, seq}` raises the caller's last read seq of the room (a lower one
 * changes nothing); the room gets `read_updated {groupId | roomId, userId, seq}`, coalesced per
 * room (PRESENCE_COALESCE_MS). Errors: INVALID_REQUEST (schema, or `seq` past the room's last
 * message), ROOM_NOT_FOUND, NOT_A_MEMBER (groups).
 */

const Id = Text({ minLength: 1, maxLength: 100 })
const GROUP_ID = 'd1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6'

export const MarkReadPayload = Type.Union([
  Type.Object({ groupId: Id, seq: Seq }),
  Type.Object({ roomId: Id, seq: Seq })
])
/** The ack: the caller's last read seq of the room now (higher than `seq` when another tab read further). */
export const MarkReadReply = Type.Union([
  Type.Object({ ok: Type.Literal(true), groupId: Type.String(), lastReadSeq: Type.Integer() }),
  Type.Object({ ok: Type.Literal(true), roomId: Type.String(), lastReadSeq: Type.Integer() })
])
/** To the room: a member read up to `seq` (the latest of each member within a coalescing window). */
export const ReadUpdated = Type.Union([
  Type.Object({ groupId: Type.String(), userId: Type.String(), seq: Type.Integer() }),
  Type.Object({ roomId: Type.String(), userId: Type.String(), seq: Type.Integer() })
])

/** One group's unread count for the caller: messages after `lastReadSeq` sent by others. */
export const GroupUnread = Type.Object({
  groupId: Type.String(),
  lastReadSeq: Type.Integer(),
  lastSeq: Type.Integer(),
  unread: Type.Integer()
}, { examples: [{ groupId: GROUP_ID, lastReadSeq: 40, lastSeq: 42, unread: 2 }] })

export const UnreadListQuery = Type.Object({
  limit: Type.Optional(PageLimit),
  cursor: Type.Optional(Cursor)
}, { additionalProperties: false })

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse }

export const readRouteSchemas = {
  one: route('groups', "The caller's unread count in one group", {
    params: Type.Object({ id: Id }),
    response: { 200: GroupUnread, ...errors }
  }, bearerAuth),
  all: route('groups', "The caller's unread counts in each of their groups, oldest group first, by cursor", {
    querystring: UnreadListQuery,
    response: { 200: Type.Object({ rooms: Type.Array(GroupUnread), nextCursor: NextCursor }), ...errors }
  }, bearerAuth)
}

/* eslint-disable @typescript-eslint/no-redeclare -- a schema and its static type share a name */
export type MarkReadPayload = Static<typeof MarkReadPayload>
export type MarkReadReply = Static<typeof MarkReadReply>
export type ReadUpdated = Static<typeof ReadUpdated>
export type GroupUnread = Static<typeof GroupUnread>
/* eslint-enable @typescript-eslint/no-redeclare */
