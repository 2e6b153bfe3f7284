import Type, { type Static, type TSchema } from 'typebox'
import { Text } from './common.js'

/**
 * Issue 21: edit, delete and reactions of stored chat messages (groups, seed 001, and channels,
 * seed 004; code rooms are never stored and have none of it). The client events name the message
 * alone; the server events name its room as the vocabulary does (`groupId` in a group, `roomId`
 * in a channel) and its `seq`.
 *
 * Error codes, besides those of chat.ts: `MESSAGE_NOT_FOUND` (no such stored message, or it was
 * deleted), `FORBIDDEN` (not the sender; for a delete, not an owner/admin of the room either),
 * `TOO_MANY_REACTIONS` (the message has CHAT_REACTIONS_MAX distinct emoji already).
 */
export const CHAT_CHANGE_ERROR_CODES = ['MESSAGE_NOT_FOUND', 'TOO_MANY_REACTIONS'] as const

const MessageId = Text({ minLength: 1, maxLength: 100 })
const IsoDate = Type.String({ format: 'date-time' })
/** One emoji (a single grapheme, checked by the server); the bound keeps long ZWJ sequences in. */
export const Emoji = Text({ minLength: 1, maxLength: 32 })

const MESSAGE_ID = 'a8f5f167-6a3c-4b1e-9d2f-3c4b5a6d7e8f'

// ---- client → server ---------------------------------------------------------------------

/** Content rules as `send_message`: trimmed, 1..CHAT_MAX_LENGTH characters. */
export const EditMessagePayload = Type.Object({ messageId: MessageId, content: Text() })
export const DeleteMessagePayload = Type.Object({ messageId: MessageId })
export const ReactionPayload = Type.Object({ messageId: MessageId, emoji: Emoji })

// ---- server → client ---------------------------------------------------------------------

/** The room of a change, as its vocabulary names it. */
const inRoom = <T extends Record<string, TSchema>> (fields: T) => Type.Union([
  Type.Object({ groupId: Type.String(), ...fields }),
  Type.Object({ roomId: Type.String(), ...fields })
])

const updatedFields = {
  messageId: Type.String(),
  seq: Type.Integer(),
  /** 1 when sent; each edit (and the delete) takes the next one. */
  version: Type.Integer({ minimum: 2 }),
  content: Type.String(),
  editedAt: IsoDate
}
/** `message_updated`: the message's latest content. */
export const MessageUpdated = inRoom(updatedFields)

const deletedFields = {
  messageId: Type.String(),
  seq: Type.Integer(),
  version: Type.Integer({ minimum: 2 }),
  deletedAt: IsoDate,
  /** Who deleted it: the sender, or an owner/admin of the room. */
  deletedBy: Type.String()
}
/** `message_deleted`: the message is a tombstone now (content gone, reactions too). */
export const MessageDeleted = inRoom(deletedFields)

/** Emoji → how many users reacted with it (keys in a stable order: by the emoji's text). */
export const ReactionCounts = Type.Record(Type.String(), Type.Integer({ minimum: 1 }), {
  examples: [{ '👍': 3, '🎉': 1 }]
})
/** `reactions_updated`: a message's counts now (coalesced: the latest, at most one per CHAT_REACTIONS_COALESCE_MS). */
export const ReactionsUpdated = inRoom({ messageId: Type.String(), seq: Type.Integer(), reactions: ReactionCounts })

// ---- acks ----------------------------------------------------------------------------------

export const EditMessageReply = Type.Object({ ok: Type.Literal(true), ...updatedFields }, {
  examples: [{ ok: true, messageId: MESSAGE_ID, seq: 42, version: 2, content: 'See you at nine!', editedAt: '2026-05-04T18:40:00.000Z' }]
})
export const DeleteMessageReply = Type.Object({ ok: Type.Literal(true), ...deletedFields })
/** `changed`: false when the reaction was already there (`react`) or was not (`unreact`). */
export const ReactionReply = Type.Object({ ok: Type.Literal(true), messageId: Type.String(), emoji: Type.String(), changed: Type.Boolean() })

/** Fields a history item (REST, replay) carries once the message changed; absent: version 1, never edited, no reactions. */
export const changedMessageFields = {
  version: Type.Optional(Type.Integer({ minimum: 1 })),
  editedAt: Type.Optional(Type.Union([IsoDate, Type.Null()])),
  deletedAt: Type.Optional(Type.Union([IsoDate, Type.Null()])),
  reactions: Type.Optional(ReactionCounts)
}

/* eslint-disable @typescript-eslint/no-redeclare -- a schema and its static type share a name */
export type EditMessagePayload = Static<typeof EditMessagePayload>
export type DeleteMessagePayload = Static<typeof DeleteMessagePayload>
export type ReactionPayload = Static<typeof ReactionPayload>
export type MessageUpdated = Static<typeof MessageUpdated>
export type MessageDeleted = Static<typeof MessageDeleted>
export type ReactionsUpdated = Static<typeof ReactionsUpdated>
export type ReactionCounts = Static<typeof ReactionCounts>
/* eslint-enable @typescript-eslint/no-redeclare */
