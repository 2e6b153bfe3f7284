import { and, asc, eq, gt, isNull, or, sql, type SQL } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { moderationActions, moderationSanctions } from '../db/schema/index.js'
import type { Page, RoomKey } from '../contract/cursor.js'

/** Where a sanction applies: a group or channel of `/`, a public room, a sync room. */
export type ModeratedKind = 'group' | 'channel' | 'public' | 'sync'
export type SanctionKind = 'ban' | 'mute'
export type ModerationActionName = 'kick' | 'ban' | 'unban' | 'mute' | 'unmute'

export interface ModeratedRoom { kind: ModeratedKind, id: string }

/** Who acts: a room's owner/admin/host (over a socket or REST with a JWT), or admin REST. */
export interface Actor { id: string | null, kind: 'member' | 'admin' }

export interface ModerationAction {
  id: string
  action: ModerationActionName
  room: ModeratedRoom
  targetUserId: string
  actor: Actor
  until: Date | null
  reason: string | null
  createdAt: Date
}

type Row = typeof moderationActions.$inferSelect

const toAction = (row: Row): ModerationAction => ({
  id: row.id,
  action: row.action as ModerationActionName,
  room: { kind: row.roomKind as ModeratedKind, id: row.roomId },
  targetUserId: row.targetUserId,
  actor: { id: row.actorId, kind: row.actorKind as Actor['kind'] },
  until: row.until,
  reason: row.reason,
  createdAt: row.createdAt
})

const createdMicros = sql<string>`(extract(epoch from ${moderationActions.createdAt}) * 1000000)::bigint::text`

/** The sanction of a user in a room that is in force now (`until` unset or later than now). */
const inForce = (room: ModeratedRoom, userId: string, kind: SanctionKind): SQL => and(
  eq(moderationSanctions.roomKind, room.kind), eq(moderationSanctions.roomId, room.id),
  eq(moderationSanctions.userId, userId), eq(moderationSanctions.kind, kind),
  or(isNull(moderationSanctions.until), gt(moderationSanctions.until, sql`now()`))
)!

/** SQL of moderation: sanctions in force and the audit log. Knows nothing of sockets. */
export function createModerationRepository (db: Db) {
  async function audit (tx: Pick<Db, 'insert'>, entry: Omit<ModerationAction, 'id' | 'createdAt'>): Promise<ModerationAction> {
    const [row] = await tx.insert(moderationActions).values({
      action: entry.action,
      roomKind: entry.room.kind,
      roomId: entry.room.id,
      targetUserId: entry.targetUserId,
      actorId: entry.actor.id,
      actorKind: entry.actor.kind,
      until: entry.until,
      reason: entry.reason
    }).returning()
    return toAction(row)
  }

  return {
    /** Whether a ban or mute is in force for the user in the room now. */
    async active (room: ModeratedRoom, userId: string, kind: SanctionKind): Promise<{ until: Date | null } | null> {
      const [row] = await db.select({ until: moderationSanctions.until }).from(moderationSanctions).where(inForce(room, userId, kind))
      return row ?? null
    },

    /**
     * One action in one transaction: a ban or mute is set (replacing an earlier one), an unban or
     * unmute lifts it, a kick only leaves its audit row.
     */
    async record (entry: Omit<ModerationAction, 'id' | 'createdAt'>): Promise<ModerationAction> {
      return await db.transaction(async (tx) => {
        const { action, room, targetUserId, until, actor } = entry
        if (action === 'ban' || action === 'mute') {
          await tx.insert(moderationSanctions)
            .values({ roomKind: room.kind, roomId: room.id, userId: targetUserId, kind: action, until, createdBy: actor.id })
            .onConflictDoUpdate({
              target: [moderationSanctions.roomKind, moderationSanctions.roomId, moderationSanctions.userId, moderationSanctions.kind],
              set: { until, createdBy: actor.id, createdAt: sql`now()` }
            })
        } else if (action === 'unban' || action === 'unmute') {
          const kind: SanctionKind = action === 'unban' ? 'ban' : 'mute'
          await tx.delete(moderationSanctions).where(and(
            eq(moderationSanctions.roomKind, room.kind), eq(moderationSanctions.roomId, room.id),
            eq(moderationSanctions.userId, targetUserId), eq(moderationSanctions.kind, kind)
          ))
        }
        return await audit(tx, entry)
      })
    },

    /** The audit log, oldest first, optionally of one room; keyset-paged by (createdAt, id). */
    async actions (filter: { room?: ModeratedRoom, kind?: ModeratedKind }, page: { limit: number, after?: RoomKey }): Promise<Page<ModerationAction>> {
      const conditions = [
        filter.room ? and(eq(moderationActions.roomKind, filter.room.kind), eq(moderationActions.roomId, filter.room.id)) : undefined,
        filter.kind ? eq(moderationActions.roomKind, filter.kind) : undefined,
        page.after ? sql`(${createdMicros}::bigint, ${moderationActions.id}) > (${page.after.createdMicros}::bigint, ${page.after.id}::uuid)` : undefined
      ].filter(c => c !== undefined)
      const rows = await db.select({ row: moderationActions, micros: createdMicros }).from(moderationActions)
        .where(and(...conditions)).orderBy(asc(moderationActions.createdAt), asc(moderationActions.id)).limit(page.limit + 1)
      const shown = rows.slice(0, page.limit)
      const last = shown[shown.length - 1]
      return {
        items: shown.map(r => toAction(r.row)),
        next: rows.length > page.limit && last !== undefined ? { createdMicros: last.micros, id: last.row.id } : null
      }
    }
  }
}

export type ModerationRepository = ReturnType<typeof createModerationRepository>
