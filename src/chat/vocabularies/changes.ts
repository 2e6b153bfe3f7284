import type { MessageDeleted, MessageUpdated, ReactionCounts, ReactionsUpdated } from '../../contract/chat-changes.js'
import type { ChangedMessage } from '../changes-repository.js'
import type { ChatMessage, RoomEmission, RoomRef } from '../types.js'

/**
 * Issue 21 on the wire: the same event names in groups (seed 001) and channels (seed 004), the
 * room named as each vocabulary names it (`groupId`, `roomId`).
 */
const roomKey = (room: RoomRef): { groupId: string } | { roomId: string } =>
  room.kind === 'group' ? { groupId: room.id } : { roomId: room.id }

const toRoom = (event: 'message_updated' | 'message_deleted' | 'reactions_updated', payload: object): RoomEmission =>
  ({ to: 'room', event, payload }) as RoomEmission

export function messageUpdated (room: RoomRef, m: ChangedMessage): MessageUpdated {
  return { ...roomKey(room), messageId: m.id, seq: m.seq, version: m.version, content: m.content, editedAt: (m.editedAt ?? new Date()).toISOString() }
}

export function messageDeleted (room: RoomRef, m: ChangedMessage, deletedBy: string): MessageDeleted {
  return { ...roomKey(room), messageId: m.id, seq: m.seq, version: m.version, deletedAt: (m.deletedAt ?? new Date()).toISOString(), deletedBy }
}

export const changePresenter = {
  updated: (room: RoomRef, m: ChangedMessage): RoomEmission[] => [toRoom('message_updated', messageUpdated(room, m))],
  deleted: (room: RoomRef, m: ChangedMessage, deletedBy: string): RoomEmission[] => [toRoom('message_deleted', messageDeleted(room, m, deletedBy))],
  reactions: (room: RoomRef, messageId: string, seq: number, reactions: ReactionCounts): RoomEmission[] => {
    const payload: ReactionsUpdated = { ...roomKey(room), messageId, seq, reactions }
    return [toRoom('reactions_updated', payload)]
  }
}

/**
 * What a history item (REST, replay) adds once the message changed: its version, editedAt and
 * deletedAt, and its reaction counts when it has any. A message as sent adds nothing, so the
 * live `message_received` / `message` stay as the seeds have them.
 */
export function changedFields (m: ChatMessage) {
  const out: { version?: number, editedAt?: string | null, deletedAt?: string | null, reactions?: ReactionCounts } = {}
  if (m.version > 1) {
    out.version = m.version
    out.editedAt = m.editedAt?.toISOString() ?? null
    out.deletedAt = m.deletedAt?.toISOString() ?? null
  }
  if (m.reactions !== undefined && Object.keys(m.reactions).length > 0) out.reactions = m.reactions
  return out
}
