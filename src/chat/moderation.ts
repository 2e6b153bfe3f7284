import type { ChatEmission } from '../socket/emission.js'
import { AppError } from '../errors.js'
import type { ModeratedNotice, ModerationReply, ModerationTargetPayload, SanctionPayload } from '../contract/moderation.js'
import type { Moderation, ModerationActionName, ModerationNotice } from '../moderation/service.js'
import type { Chat } from './service.js'
import type { ChatUser, RoomRef, StoredKind } from './types.js'
import { emit } from './vocabularies/wire.js'

type StoredRoom = RoomRef & { kind: StoredKind }
type Payload = ModerationTargetPayload | SanctionPayload

const roomOf = (p: { groupId: string } | { roomId: string }): StoredRoom =>
  'groupId' in p ? { kind: 'group', id: p.groupId } : { kind: 'channel', id: p.roomId }
const keyed = (room: StoredRoom) => room.kind === 'group' ? { groupId: room.id } : { roomId: room.id }

function noticeOf (room: StoredRoom, notice: ModerationNotice): ModeratedNotice {
  return { ...keyed(room), action: notice.action, until: notice.until?.toISOString() ?? null, reason: notice.reason }
}

export interface ChatModerationOptions {
  chat: Chat
  moderation: Moderation
  /** The outbox of `/`: notices of a mute or an unban go to all the user's sockets. */
  deliver: (emissions: ChatEmission[]) => Promise<void>
}

/**
 * Moderation of groups and channels (issue 21): who may act (a room's owner, or its admins on
 * members), the events `kick`, `ban`, `mute`, `unban`, `unmute`, and how the chat enforces them:
 * a kick or ban takes every socket of the user out of the room, on every instance, each told
 * with `moderated` first; joins check bans; the insert statement of a send checks mutes.
 */
export function createChatModeration ({ chat, moderation, deliver }: ChatModerationOptions) {
  for (const kind of ['group', 'channel'] as const) {
    moderation.enforce(kind, {
      exists: async (roomId) => (await chat.getRoom(roomId, kind)) !== null,
      async remove (roomId, userId, notice) {
        const room: StoredRoom = { kind, id: roomId }
        await chat.evict(room, userId, [emit('socket', 'moderated', noticeOf(room, notice))])
      },
      async notify (roomId, userId, notice) {
        await deliver([{ to: { user: userId }, event: 'moderated', payload: noticeOf({ kind, id: roomId }, notice) }])
      }
    })
  }

  /** A room's owner may act on anyone but itself; its admins on plain members; members not at all. */
  async function authorize (room: StoredRoom, actor: ChatUser, targetUserId: string): Promise<void> {
    if (targetUserId === actor.id) throw new AppError('INVALID_REQUEST', 'You cannot moderate yourself')
    const access = await chat.access(room.id, actor.id, room.kind)
    if (!access) throw new AppError('ROOM_NOT_FOUND', 'Room not found', 404)
    if (access.role === null && room.kind === 'group') throw new AppError('NOT_A_MEMBER', 'You are not a member of this group', 403)
    if (access.role !== 'owner' && access.role !== 'admin') throw new AppError('FORBIDDEN', 'Only the owner or an admin can moderate this room', 403)
    const target = await chat.member(room.id, targetUserId)
    if (room.kind === 'group' && !target) throw new AppError('NOT_A_MEMBER', 'That user is not a member of this group', 404)
    const role = target?.role ?? 'member'
    if (role === 'owner' || (role === 'admin' && access.role !== 'owner')) {
      throw new AppError('FORBIDDEN', role === 'owner' ? 'The owner cannot be moderated' : 'Only the owner can moderate an admin', 403)
    }
  }

  function handler (action: ModerationActionName) {
    return async (payload: Payload, _socketId: string, user: ChatUser): Promise<ModerationReply> => {
      const room = roomOf(payload)
      await authorize(room, user, payload.userId)
      const until = 'until' in payload && payload.until !== undefined ? new Date(payload.until) : null
      const done = await moderation.act({
        room, action, targetUserId: payload.userId, until, reason: payload.reason ?? null, actor: { id: user.id, kind: 'member' }
      })
      return { ok: true, ...keyed(room), action, userId: payload.userId, until: done.until?.toISOString() ?? null } as ModerationReply
    }
  }

  return {
    kick: handler('kick'),
    ban: handler('ban'),
    mute: handler('mute'),
    unban: handler('unban'),
    unmute: handler('unmute'),

    /** Before a join of a group or channel: BANNED while a ban is in force. */
    async guardJoin<T> (room: StoredRoom, userId: string, join: () => Promise<T>): Promise<T> {
      await moderation.checkJoin(room, userId)
      return await join()
    }
  }
}

export type ChatModeration = ReturnType<typeof createChatModeration>
