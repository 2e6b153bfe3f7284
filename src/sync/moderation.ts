import type { Namespace } from 'socket.io'
import type { SyncServerToClientEvents } from '../client.js'
import type { Identity } from '../auth/identity.js'
import { AppError } from '../errors.js'
import type { Moderation } from '../moderation/service.js'
import { createOutbox } from '../socket/outbox.js'
import { normalizeRoomCode } from './codes.js'
import { roomChannel, type Membership, type SyncRooms } from './service.js'

export interface SyncModerationOptions {
  nsp: Namespace
  service: SyncRooms
  moderation: Moderation
}

/**
 * Moderation of watch-party rooms (issue 21), keyed by the room's code: a kick or ban frees the
 * participant's seat at once (no grace), tells its sockets `moderated` and takes them out of the
 * room on every instance; joins of a banned registered user are refused. The host kicks with
 * `room:kick {participantId}`; admin REST does all of it. A guest has no lasting identity: a
 * ban of a guest is a kick.
 */
export function createSyncModeration ({ nsp, service, moderation }: SyncModerationOptions) {
  const outbox = createOutbox<SyncServerToClientEvents>(nsp)

  async function roomOf (code: string) {
    try {
      return await service.getRoom(code)
    } catch {
      return null
    }
  }

  /** A participant by its id, or by a registered user's id. */
  async function participantOf (roomId: string, who: string) {
    const participants = await service.state.participants(roomId)
    return participants.find(p => p.id === who) ?? participants.find(p => p.userId === who) ?? null
  }

  moderation.enforce('sync', {
    key: (code) => normalizeRoomCode(code),
    exists: async (code) => (await roomOf(code)) !== null,
    async remove (code, who, notice) {
      const room = await roomOf(code)
      const participant = room && await participantOf(room.id, who)
      if (!room || !participant) return
      const sockets = await service.removeParticipant(room.id, participant.id)
      if (sockets.length === 0) return
      const payload = { roomId: room.code, action: notice.action, until: notice.until?.toISOString() ?? null, reason: notice.reason }
      await outbox.deliver([{ to: { sockets }, event: 'moderated', payload }])
      outbox.leaveRemote({ sockets }, roomChannel(room.id))
    },
    mutes: false
  })

  return {
    /** Before `room:join`: a registered user banned from the room gets BANNED. */
    async guardJoin (roomCode: string, identity: Identity | null): Promise<void> {
      const code = normalizeRoomCode(roomCode)
      if (code !== null && identity !== null) await moderation.checkJoin({ kind: 'sync', id: code }, identity.id)
    },

    /** `room:kick {participantId}`: the host removes another participant. */
    async kick (payload: { participantId: string, reason?: string }, membership: Membership, identity: Identity | null) {
      const participants = await service.state.participants(membership.roomId)
      const me = participants.find(p => p.id === membership.participantId)
      if (me?.isHost !== true) throw new AppError('FORBIDDEN', 'Only the host can remove a participant', 403)
      if (payload.participantId === me.id) throw new AppError('INVALID_REQUEST', 'You cannot remove yourself; leave the room')
      const target = participants.find(p => p.id === payload.participantId)
      if (!target) throw new AppError('INVALID_REQUEST', 'No such participant in this room')
      await moderation.act({
        room: { kind: 'sync', id: membership.roomCode },
        action: 'kick',
        targetUserId: target.id,
        reason: payload.reason ?? null,
        actor: { id: identity?.id ?? null, kind: 'member' }
      })
      return { ok: true as const, participantId: target.id }
    }
  }
}

export type SyncModeration = ReturnType<typeof createSyncModeration>
