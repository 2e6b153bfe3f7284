import type { Database } from '../db/index.js'
import { AppError } from '../errors.js'
import type { Page, RoomKey } from '../contract/cursor.js'
import {
  createModerationRepository, type Actor, type ModeratedKind, type ModeratedRoom, type ModerationAction, type ModerationActionName
} from './repository.js'

export type { Actor, ModeratedKind, ModeratedRoom, ModerationAction, ModerationActionName } from './repository.js'

/** What the user concerned is told (the `moderated` notice of `/`, or the namespace's own). */
export interface ModerationNotice { action: ModerationActionName, until: Date | null, reason: string | null }

/**
 * How one kind of room carries out an action, given by the feature that owns the room (chat,
 * public rooms, sync). `remove`: every socket of the user leaves the room now, on every
 * instance, each told with a notice (kick and ban). `notify`: a mute, unmute or unban.
 */
export interface Enforcer {
  /** The room's id as sanctions store it (a sync room's code upper-cased); null: no such room can exist. */
  key? (roomId: string): string | null
  /** Whether the room exists (admin REST answers ROOM_NOT_FOUND otherwise). */
  exists (roomId: string): Promise<boolean>
  remove (roomId: string, userId: string, notice: ModerationNotice): Promise<void>
  /** false: the room kind carries no messages, so `mute` / `unmute` are INVALID_REQUEST. */
  mutes?: boolean
  notify? (roomId: string, userId: string, notice: ModerationNotice): Promise<void>
}

export interface ActInput {
  room: ModeratedRoom
  action: ModerationActionName
  targetUserId: string
  /** ban and mute only: when it ends by itself; unset: until lifted. */
  until?: Date | null
  reason?: string | null
  actor: Actor
}

export interface ModerationOptions {
  database: Database
  /** The clock `until` is checked against (tests). */
  now?: () => number
}

export const bannedError = (until: Date | null) => new AppError('BANNED',
  until === null ? 'You are banned from this room' : `You are banned from this room until ${until.toISOString()}`, 403,
  { until: until?.toISOString() ?? null })
export const mutedError = () => new AppError('MUTED', 'You are muted in this room', 403)

/**
 * Moderation of every kind of room (issue 21): the sanctions in force and the audit log in SQL,
 * the enforcement by the feature that owns the room. Who may act is the caller's check (a
 * group's owner/admins, a sync room's host, admin REST). A mute is enforced where messages are
 * stored: the chat's insert statement reads `moderation_sanctions` itself (no query of its own).
 */
export function createModeration ({ database, now = Date.now }: ModerationOptions) {
  const repo = createModerationRepository(database.db)
  const enforcers = new Map<ModeratedKind, Enforcer>()

  /** The room as its enforcer keys it. */
  function canonical (room: ModeratedRoom): ModeratedRoom {
    const key = enforcers.get(room.kind)?.key
    return key === undefined ? room : { kind: room.kind, id: key(room.id) ?? room.id }
  }

  function checkUntil (input: ActInput): Date | null {
    const until = input.until ?? null
    if (input.action !== 'ban' && input.action !== 'mute') {
      if (until !== null) throw new AppError('INVALID_REQUEST', `until applies to ban and mute, not ${input.action}`)
      return null
    }
    if (until !== null && until.getTime() <= now()) throw new AppError('INVALID_REQUEST', 'until must be in the future')
    return until
  }

  return {
    /** The feature owning `kind` rooms says how to remove and tell a user. */
    enforce (kind: ModeratedKind, enforcer: Enforcer): void {
      enforcers.set(kind, enforcer)
    },

    /** Records the action (sanction and audit, one transaction), then carries it out on every instance. */
    async act (input: ActInput): Promise<ModerationAction> {
      const until = checkUntil(input)
      const enforcer = enforcers.get(input.room.kind)
      if (!enforcer) throw new AppError('INTERNAL_ERROR', `no moderation for ${input.room.kind} rooms`, 500)
      if (enforcer.mutes === false && (input.action === 'mute' || input.action === 'unmute')) {
        throw new AppError('INVALID_REQUEST', `${input.room.kind} rooms carry no messages: nothing to mute`)
      }
      const room = canonical(input.room)
      const recorded = await repo.record({ ...input, room, until, reason: input.reason ?? null })
      const notice: ModerationNotice = { action: input.action, until, reason: recorded.reason }
      if (input.action === 'kick' || input.action === 'ban') await enforcer.remove(room.id, input.targetUserId, notice)
      else await enforcer.notify?.(room.id, input.targetUserId, notice)
      return recorded
    },

    /** Whether a room of this kind exists (admin REST). */
    async exists (room: ModeratedRoom): Promise<boolean> {
      return await (enforcers.get(room.kind)?.exists(room.id) ?? Promise.resolve(false))
    },

    /** Throws BANNED while a ban of the user in the room is in force (a join path asks). */
    async checkJoin (room: ModeratedRoom, userId: string): Promise<void> {
      const ban = await repo.active(canonical(room), userId, 'ban')
      if (ban) throw bannedError(ban.until)
    },

    /** Whether the user is muted in the room now (paths that store nothing, e.g. tests and REST). */
    async isMuted (room: ModeratedRoom, userId: string): Promise<boolean> {
      return (await repo.active(canonical(room), userId, 'mute')) !== null
    },

    /** The audit log, oldest first. */
    actions: (filter: { room?: ModeratedRoom, kind?: ModeratedKind }, page: { limit: number, after?: RoomKey }): Promise<Page<ModerationAction>> =>
      repo.actions({ ...filter, room: filter.room && canonical(filter.room) }, page)
  }
}

export type Moderation = ReturnType<typeof createModeration>
