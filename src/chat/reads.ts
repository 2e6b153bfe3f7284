import type { Db } from '../db/index.js'
import { AppError } from '../errors.js'
import type { Coalescer } from '../presence/coalesce.js'
import type { Page, RoomKey } from '../contract/cursor.js'
import type { GroupUnread, MarkReadPayload, MarkReadReply } from '../contract/reads.js'
import type { Chat } from './service.js'
import { createReadsRepository } from './reads-repository.js'
import { scopeOf, type ChatUser, type RoomEmission, type RoomRef, type StoredKind } from './types.js'
import { emit } from './vocabularies/wire.js'

type StoredRoom = RoomRef & { kind: StoredKind }

const roomOf = (p: MarkReadPayload): StoredRoom => 'groupId' in p ? { kind: 'group', id: p.groupId } : { kind: 'channel', id: p.roomId }
const keyed = (room: StoredRoom) => room.kind === 'group' ? { groupId: room.id } : { roomId: room.id }

export interface ReadsOptions {
  chat: Chat
  db: Db
  /** The member-list coalescer of `/` (PRESENCE_COALESCE_MS): one `read_updated` burst per room per window. */
  coalescer: Coalescer
}

/**
 * Read receipts of groups and channels (issue 21): `mark_read` stores the highest seq a user
 * has read per room (any tab, any instance: SQL decides), and the room hears `read_updated`,
 * coalesced per room: within a window each member's latest seq goes out once, at its end.
 */
export function createReads ({ chat, db, coalescer }: ReadsOptions) {
  const repo = createReadsRepository(db)
  /** Per room scope: each reader's latest seq not yet sent. */
  const pending = new Map<string, Map<string, number>>()

  async function announce (room: StoredRoom): Promise<void> {
    const scope = scopeOf(room)
    const readers = pending.get(scope)
    pending.delete(scope)
    if (!readers) return
    const emissions: RoomEmission[] = [...readers].map(([userId, seq]) => emit('room', 'read_updated', { ...keyed(room), userId, seq }))
    await chat.deliver(emissions, room, '')
  }

  /** The room and the caller's right to read it: a group's member, anyone for a channel. */
  async function readable (room: StoredRoom, userId: string) {
    const access = await chat.access(room.id, userId, room.kind)
    if (!access) throw new AppError('ROOM_NOT_FOUND', 'Room not found', 404)
    if (room.kind === 'group' && access.role === null) throw new AppError('NOT_A_MEMBER', 'You are not a member of this group', 403)
    return access
  }

  return {
    /** `mark_read {groupId | roomId, seq}`: a seq past the room's last message is refused, a lower one changes nothing. */
    async mark (payload: MarkReadPayload, user: ChatUser): Promise<MarkReadReply> {
      const room = roomOf(payload)
      const { room: stored } = await readable(room, user.id)
      if (payload.seq > stored.lastSeq) throw new AppError('INVALID_REQUEST', `seq is past the room's last message (${stored.lastSeq})`)
      const { lastReadSeq, raised } = await repo.raise(room.id, user.id, payload.seq)
      if (raised) {
        const scope = scopeOf(room)
        const readers = pending.get(scope) ?? new Map<string, number>()
        readers.set(user.id, Math.max(readers.get(user.id) ?? 0, lastReadSeq))
        pending.set(scope, readers)
        await coalescer.schedule(`read:${scope}`, () => announce(room))
      }
      return { ok: true, ...keyed(room), lastReadSeq } as MarkReadReply
    },

    /** `GET /api/groups/:id/unread`: the caller's count in one group (members only). */
    async unreadIn (groupId: string, userId: string): Promise<GroupUnread> {
      await readable({ kind: 'group', id: groupId }, userId)
      const [row] = await repo.unread([groupId], userId)
      if (!row) throw new AppError('ROOM_NOT_FOUND', 'Room not found', 404)
      return { groupId, lastReadSeq: row.lastReadSeq, lastSeq: row.lastSeq, unread: row.unread }
    },

    /** `GET /api/groups/unread`: a page of the caller's groups (as `GET /api/groups`), each with its count. */
    async unreadPage (userId: string, page: { limit: number, after?: RoomKey }): Promise<Page<GroupUnread>> {
      const { items, next } = await chat.roomsOf(userId, 'group', page)
      const counts = new Map((await repo.unread(items.map(g => g.room.id), userId)).map(r => [r.roomId, r]))
      return {
        items: items.flatMap(g => {
          const row = counts.get(g.room.id)
          return row ? [{ groupId: g.room.id, lastReadSeq: row.lastReadSeq, lastSeq: row.lastSeq, unread: row.unread }] : []
        }),
        next
      }
    }
  }
}

export type Reads = ReturnType<typeof createReads>
