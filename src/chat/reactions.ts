import { AppError } from '../errors.js'
import type { Coalescer } from '../presence/coalesce.js'
import { targetOf } from './edits.js'
import type { Chat } from './service.js'
import type { ChatUser, RoomRef } from './types.js'
import { changePresenter } from './vocabularies/changes.js'

export interface ReactionsOptions {
  chat: Chat
  /** CHAT_REACTIONS_MAX: distinct emoji one message may carry. */
  maxDistinct: number
  /** Coalesces `reactions_updated` per message (CHAT_REACTIONS_COALESCE_MS). */
  coalescer: Coalescer
  /** A failed broadcast is reported here: the reaction is stored, so its ack still succeeds. */
  onError?: (err: unknown) => void
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' })
// A pictograph, a flag (regional indicator pair) or a keycap; modifiers and ZWJ joins ride along.
const EMOJI = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[#*0-9]\uFE0F?\u20E3)/u
const NOT_EMOJI = /[\s\p{Cc}\p{L}\p{N}\p{P}]/u

/** One emoji: exactly one grapheme that is a pictograph, a flag or a keycap (CONTRACT: INVALID_REQUEST otherwise). */
export function checkEmoji (raw: string): string {
  const graphemes = [...segmenter.segment(raw)]
  const ok = graphemes.length === 1 && EMOJI.test(raw) && !NOT_EMOJI.test(raw.replace(/[#*0-9]\uFE0F?\u20E3/u, ''))
  if (!ok) throw new AppError('INVALID_REQUEST', 'emoji must be a single emoji')
  return raw
}

/**
 * Issue 21: `react` / `unreact`, one reaction per (user, message, emoji). The write is exact on its
 * own (primary key, cap checked under the message's row lock); the room hears the counts through
 * a coalescer per message: the first change at once, then at most one per window, each reading
 * the counts when it is sent, under the room's sequencer lock so that what instances send of a
 * room arrives in the order it was read: the last `reactions_updated` always has the latest counts.
 */
export function createReactions ({ chat, maxDistinct, coalescer, onError = () => {} }: ReactionsOptions) {
  function announce (room: RoomRef, messageId: string, seq: number, userId: string): Promise<void> {
    return coalescer.schedule(`reactions:${messageId}`, async () => {
      await chat.sequencer.run(room.id, async (tx) => (await chat.changes.counts(tx, [messageId])).get(messageId) ?? {},
        (counts) => chat.deliver(changePresenter.reactions(room, messageId, seq, counts), room, userId))
    }).catch(onError)
  }

  return {
    async react (payload: { messageId: string, emoji: string }, socketId: string, user: ChatUser) {
      const emoji = checkEmoji(payload.emoji)
      const { target, room } = await targetOf(chat, payload.messageId, socketId, user)
      const outcome = await chat.changes.react(target.id, user.id, emoji, maxDistinct)
      if (outcome === 'missing') throw new AppError('MESSAGE_NOT_FOUND', 'Message not found', 404)
      if (outcome === 'full') throw new AppError('TOO_MANY_REACTIONS', `A message carries at most ${maxDistinct} different emoji`)
      if (outcome === 'added') await announce(room, target.id, target.seq, user.id)
      return { ok: true as const, messageId: target.id, emoji, changed: outcome === 'added' }
    },

    async unreact (payload: { messageId: string, emoji: string }, socketId: string, user: ChatUser) {
      const emoji = checkEmoji(payload.emoji)
      const { target, room } = await targetOf(chat, payload.messageId, socketId, user)
      const removed = await chat.changes.unreact(target.id, user.id, emoji)
      if (removed) await announce(room, target.id, target.seq, user.id)
      return { ok: true as const, messageId: target.id, emoji, changed: removed }
    }
  }
}

export type Reactions = ReturnType<typeof createReactions>
