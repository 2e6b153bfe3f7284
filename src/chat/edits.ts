import { AppError } from '../errors.js'
import { noRoomEvents, type RoomEvent, type RoomEventSink } from '../services/room-events.js'
import type { MessageDeleted, MessageUpdated } from '../contract/chat-changes.js'
import type { MessageTarget } from './changes-repository.js'
import type { Chat } from './service.js'
import { checkContent } from './text.js'
import type { ChatUser, RoomRef, StoredKind } from './types.js'
import { changePresenter, messageDeleted, messageUpdated } from './vocabularies/changes.js'

export interface MessageEditsOptions {
  chat: Chat
  /** CHAT_MAX_LENGTH, as for a send. */
  maxLength: number
  /** Where changes are reported (webhooks' message.updated / message.deleted), in the change's transaction. */
  roomEvents?: RoomEventSink
  onError?: (err: unknown) => void
}

const notFound = () => new AppError('MESSAGE_NOT_FOUND', 'Message not found', 404)

/** The stored message a socket acts on: it exists, is not deleted, and the socket has joined its room. */
export async function targetOf (chat: Chat, messageId: string, socketId: string, user: ChatUser): Promise<{ target: MessageTarget, room: RoomRef & { kind: StoredKind } }> {
  const target = await chat.changes.target(messageId, user.id)
  if (!target || target.deleted) throw notFound()
  const room = { kind: target.kind, id: target.roomId }
  if (!(await chat.inRoom(socketId, room))) throw new AppError('NOT_IN_ROOM', 'Join the room before changing its messages')
  return { target, room }
}

/** A change as webhooks report it: the event's fields without the room key (the event names the room). */
function changeEvent (type: 'message.updated' | 'message.deleted', room: RoomRef & { kind: StoredKind }, userId: string, payload: object): RoomEvent {
  const { groupId: _g, roomId: _r, ...data } = payload as Record<string, unknown>
  return { type, room, userId, data }
}

/** Owners and admins of a group or channel, and a channel's creator, may delete any message of it. */
const moderates = (target: MessageTarget) => target.role === 'owner' || target.role === 'admin' || (target.kind === 'channel' && target.creator)

/**
 * Issue 21: a sender edits their stored message, the sender or a moderator deletes one. Each change
 * is one conditional UPDATE taking the next version, run under the room's sequencer lock and
 * broadcast before the lock is released: every instance's changes of a room reach its members
 * in the order the database applied them, so all end on the same final state.
 */
export function createMessageEdits ({ chat, maxLength, roomEvents = noRoomEvents, onError = () => {} }: MessageEditsOptions) {
  return {
    async edit (payload: { messageId: string, content: string }, socketId: string, user: ChatUser): Promise<MessageUpdated & { ok: true }> {
      const content = checkContent(payload.content, maxLength)
      const { target, room } = await targetOf(chat, payload.messageId, socketId, user)
      if (target.senderId !== user.id) throw new AppError('FORBIDDEN', 'Only the sender may edit a message', 403)
      const reported = roomEvents.wants('message.updated')
      const edited = await chat.sequencer.run(room.id, async (tx) => {
        const result = await chat.changes.edit(tx, target.id, user.id, content)
        if (result && reported) await roomEvents.write([changeEvent('message.updated', room, user.id, messageUpdated(room, result))], tx)
        return result
      }, async (result) => {
        if (result) await chat.deliver(changePresenter.updated(room, result), room, user.id).catch(onError)
      }, { transaction: reported })
      // Deleted between the lookup and the update.
      if (!edited) throw notFound()
      return { ok: true, ...messageUpdated(room, edited) }
    },

    async remove (payload: { messageId: string }, socketId: string, user: ChatUser): Promise<MessageDeleted & { ok: true }> {
      const { target, room } = await targetOf(chat, payload.messageId, socketId, user)
      if (target.senderId !== user.id && !moderates(target)) {
        throw new AppError('FORBIDDEN', 'Only the sender or an owner/admin may delete a message', 403)
      }
      const reported = roomEvents.wants('message.deleted')
      const deleted = await chat.sequencer.run(room.id, async (tx) => {
        const result = await chat.changes.remove(tx, target.id)
        if (result && reported) await roomEvents.write([changeEvent('message.deleted', room, user.id, messageDeleted(room, result, user.id))], tx)
        return result
      }, async (result) => {
        if (result) await chat.deliver(changePresenter.deleted(room, result, user.id), room, user.id).catch(onError)
      }, { transaction: true })
      if (!deleted) throw notFound()
      return { ok: true, ...messageDeleted(room, deleted, user.id) }
    }
  }
}

export type MessageEdits = ReturnType<typeof createMessageEdits>
