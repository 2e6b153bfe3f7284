import { and, asc, desc, eq, gt, lt, sql, type SQL } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { chatMembers, chatRooms, messages, moderationSanctions } from '../db/schema/index.js'
import type { Page, RoomKey } from '../contract/cursor.js'

/** A transaction of `Db` (what `db.transaction` hands its callback). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
type Executor = Db | Tx

/**
 * Runs one statement and answers its rows. `name` names it: on PostgreSQL it is then prepared
 * once per connection and planned once, not again for every message (the insert's planning
 * took as long as its execution).
 */
export type Statement = <R extends Record<string, unknown>>(name: string, query: SQL) => Promise<R[]>

/** Rooms that live in SQL; code rooms (seed 003) never do. */
export type StoredKind = 'group' | 'channel'
export type MemberRole = 'owner' | 'admin' | 'member'

export interface ChatRoom {
  id: string
  kind: StoredKind
  name: string
  namespace: string
  createdBy: string | null
  metadata: Record<string, unknown>
  lastSeq: number
  createdAt: Date
  lastActivityAt: Date
}

export interface ChatMember {
  roomId: string
  userId: string
  userName: string
  role: MemberRole
  joinedAt: Date
}

/** A stored message row, as drizzle reads it. */
export type StoredMessage = typeof messages.$inferSelect

/** The row `insertMessage` reads back (column names as SQL has them). */
interface InsertedRow extends Record<string, unknown> {
  found: number
  updated: number
  /** The sender is muted in the room (issue 21): nothing was written. */
  muted: boolean
  id: string | null
  room_id: string
  seq: string | number
  sender_id: string | null
  sender_name: string
  content: string
  type: string
  reply_to_id: string | null
  client_message_id: string | null
  metadata: Record<string, unknown> | string | null
  created_at: Date | string
}

export type NewMessage = Omit<StoredMessage, 'id' | 'seq' | 'createdAt' | 'version' | 'editedAt' | 'deletedAt'>

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** Any id a client sends is looked up only when it can be one (a bad one is simply not found). */
export const isUuid = (id: string): boolean => UUID.test(id)

const toRoom = (row: typeof chatRooms.$inferSelect): ChatRoom => ({ ...row, kind: row.kind as StoredKind })
const toMember = (row: typeof chatMembers.$inferSelect): ChatMember => ({ ...row, role: row.role as MemberRole })

/** A room's creation time in microseconds, the first half of its list cursor. */
const createdMicros = sql<string>`(extract(epoch from ${chatRooms.createdAt}) * 1000000)::bigint::text`
const afterKey = (key: RoomKey): SQL => sql`(${createdMicros}::bigint, ${chatRooms.id}) > (${key.createdMicros}::bigint, ${key.id}::uuid)`

export interface RoomPageQuery { limit: number, after?: RoomKey }

/** `limit + 1` rows read: the extra one only says there is a next page. */
function pageOf<T> (rows: Array<{ item: T, id: string, micros: string }>, limit?: number): Page<T> {
  const shown = limit === undefined ? rows : rows.slice(0, limit)
  const last = shown[shown.length - 1]
  const more = limit !== undefined && rows.length > limit && last !== undefined
  return { items: shown.map(r => r.item), next: more ? { createdMicros: last.micros, id: last.id } : null }
}

/** What a send may do in a room, in one query: the room, the sender's role and the member count. */
export interface RoomAccess { room: ChatRoom, role: MemberRole | null, memberCount: number }

/** SQL of the chat core: rooms, members and messages. Knows nothing of sockets. */
export function createChatRepository (db: Db) {
  return {
    async createRoom (input: {
      kind: StoredKind
      name: string
      namespace?: string
      createdBy?: string | null
      metadata?: Record<string, unknown>
      owner?: { id: string, name: string }
    }): Promise<ChatRoom> {
      return await db.transaction(async (tx) => {
        const [row] = await tx.insert(chatRooms).values({
          kind: input.kind,
          name: input.name,
          namespace: input.namespace ?? 'default',
          createdBy: input.createdBy ?? null,
          metadata: input.metadata ?? {}
        }).returning()
        if (input.owner) {
          await tx.insert(chatMembers).values({ roomId: row.id, userId: input.owner.id, userName: input.owner.name, role: 'owner' })
        }
        return toRoom(row)
      })
    },

    async room (id: string, kind?: StoredKind): Promise<ChatRoom | null> {
      if (!isUuid(id)) return null
      const [row] = await db.select().from(chatRooms)
        .where(kind ? and(eq(chatRooms.id, id), eq(chatRooms.kind, kind)) : eq(chatRooms.id, id))
      return row ? toRoom(row) : null
    },

    /** Rooms in creation order; with `page`, at most `page.limit` after the key `page.after`. */
    async rooms (filter: { kind?: StoredKind, namespace?: string } = {}, page?: RoomPageQuery): Promise<Page<ChatRoom>> {
      const conditions = [
        filter.kind ? eq(chatRooms.kind, filter.kind) : undefined,
        filter.namespace ? eq(chatRooms.namespace, filter.namespace) : undefined,
        page?.after ? afterKey(page.after) : undefined
      ].filter(c => c !== undefined)
      const query = db.select({ room: chatRooms, micros: createdMicros }).from(chatRooms).where(and(...conditions))
        .orderBy(asc(chatRooms.createdAt), asc(chatRooms.id))
      const rows = page ? await query.limit(page.limit + 1) : await query
      return pageOf(rows.map(r => ({ item: toRoom(r.room), id: r.room.id, micros: r.micros })), page?.limit)
    },

    /** Rooms of one kind the user is a member of, with their role and member count (paged as `rooms`). */
    async roomsOf (userId: string, kind: StoredKind, page?: RoomPageQuery): Promise<Page<RoomAccess & { role: MemberRole }>> {
      const conditions = [eq(chatMembers.userId, userId), eq(chatRooms.kind, kind), page?.after ? afterKey(page.after) : undefined]
      const query = db.select({
        room: chatRooms,
        role: chatMembers.role,
        memberCount: sql<number>`(select count(*)::int from ${chatMembers} m where m.room_id = ${chatRooms.id})`,
        micros: createdMicros
      }).from(chatMembers)
        .innerJoin(chatRooms, eq(chatRooms.id, chatMembers.roomId))
        .where(and(...conditions.filter(c => c !== undefined)))
        .orderBy(asc(chatRooms.createdAt), asc(chatRooms.id))
      const rows = page ? await query.limit(page.limit + 1) : await query
      return pageOf(rows.map(r => ({ item: { room: toRoom(r.room), role: r.role as MemberRole, memberCount: Number(r.memberCount) }, id: r.room.id, micros: r.micros })), page?.limit)
    },

    async access (id: string, userId: string, kind?: StoredKind): Promise<RoomAccess | null> {
      if (!isUuid(id)) return null
      const [row] = await db.select({
        room: chatRooms,
        role: chatMembers.role,
        memberCount: sql<number>`(select count(*)::int from ${chatMembers} m where m.room_id = ${chatRooms.id})`
      }).from(chatRooms)
        .leftJoin(chatMembers, and(eq(chatMembers.roomId, chatRooms.id), eq(chatMembers.userId, userId)))
        .where(kind ? and(eq(chatRooms.id, id), eq(chatRooms.kind, kind)) : eq(chatRooms.id, id))
      if (!row) return null
      return { room: toRoom(row.room), role: (row.role ?? null) as MemberRole | null, memberCount: Number(row.memberCount) }
    },

    async deleteRoom (id: string, executor: Executor = db): Promise<boolean> {
      if (!isUuid(id)) return false
      const rows = await executor.delete(chatRooms).where(eq(chatRooms.id, id)).returning({ id: chatRooms.id })
      return rows.length > 0
    },

    /** Adds a member; an existing member is returned unchanged (added: false). */
    async addMember (roomId: string, user: { id: string, name: string }, role: MemberRole): Promise<{ member: ChatMember, added: boolean }> {
      const inserted = await db.insert(chatMembers)
        .values({ roomId, userId: user.id, userName: user.name, role })
        .onConflictDoNothing()
        .returning()
      if (inserted.length > 0) return { member: toMember(inserted[0]), added: true }
      const [row] = await db.select().from(chatMembers).where(and(eq(chatMembers.roomId, roomId), eq(chatMembers.userId, user.id)))
      return { member: toMember(row), added: false }
    },

    async removeMember (roomId: string, userId: string): Promise<boolean> {
      const rows = await db.delete(chatMembers)
        .where(and(eq(chatMembers.roomId, roomId), eq(chatMembers.userId, userId)))
        .returning({ userId: chatMembers.userId })
      return rows.length > 0
    },

    async member (roomId: string, userId: string): Promise<ChatMember | null> {
      if (!isUuid(roomId)) return null
      const [row] = await db.select().from(chatMembers).where(and(eq(chatMembers.roomId, roomId), eq(chatMembers.userId, userId)))
      return row ? toMember(row) : null
    },

    async members (roomId: string): Promise<ChatMember[]> {
      if (!isUuid(roomId)) return []
      const rows = await db.select().from(chatMembers).where(eq(chatMembers.roomId, roomId)).orderBy(asc(chatMembers.joinedAt))
      return rows.map(toMember)
    },

    async messageByClientId (roomId: string, senderId: string, clientMessageId: string): Promise<StoredMessage | null> {
      const [row] = await db.select().from(messages)
        .where(and(eq(messages.roomId, roomId), eq(messages.senderId, senderId), eq(messages.clientMessageId, clientMessageId)))
      return row ?? null
    },

    async messageInRoom (tx: Executor, roomId: string, id: string): Promise<boolean> {
      if (!isUuid(id)) return false
      const [row] = await tx.select({ id: messages.id }).from(messages).where(and(eq(messages.id, id), eq(messages.roomId, roomId)))
      return row !== undefined
    },

    /**
     * Takes the room's next seq and stores the message in ONE statement (a data-modifying CTE):
     * atomic on its own, so the caller needs no BEGIN/COMMIT round trips around it. With
     * `memberId` the room is only touched when that user is one of its members, so a send needs no
     * separate membership query. It always answers one row: `found` 0 when the room is not there,
     * `updated` 0 when `memberId` is not a member (nothing is written then), no message when the
     * client id was a duplicate (the seq is then used up, as a rolled-back sequence value would be).
     */
    async insertMessage (statement: Statement, kind: StoredKind, input: NewMessage, memberId: string | null = null): Promise<{ message: StoredMessage } | { missing: 'room' | 'member' | 'muted' | 'duplicate' }> {
      const member = memberId === null
        ? sql``
        : sql`and exists (select 1 from ${chatMembers} m where m.room_id = ${input.roomId} and m.user_id = ${memberId})`
      const [row] = await statement<InsertedRow>(memberId === null ? 'roomwire_insert_message' : 'roomwire_insert_member_message', sql`
        with x as (
          select exists (select 1 from ${moderationSanctions} ms where ms.room_kind = ${kind} and ms.room_id = ${input.roomId}
            and ms.user_id = ${input.senderId} and ms.kind = 'mute' and (ms.until is null or ms.until > now())) as muted
        ), s as (
          update ${chatRooms} set last_seq = last_seq + 1, last_activity_at = now()
          where id = ${input.roomId} and kind = ${kind} ${member} and not (select muted from x)
          returning last_seq
        ), i as (
          insert into ${messages} (room_id, seq, sender_id, sender_name, content, type, reply_to_id, client_message_id, metadata)
          select ${input.roomId}, s.last_seq, ${input.senderId}, ${input.senderName}, ${input.content}, ${input.type},
            ${input.replyToId}, ${input.clientMessageId}, ${input.metadata === null ? null : JSON.stringify(input.metadata)}::jsonb
          from s
          on conflict (room_id, sender_id, client_message_id) where client_message_id is not null do nothing
          returning *
        )
        select (select count(*) from ${chatRooms} r where r.id = ${input.roomId} and r.kind = ${kind})::int as found,
          (select count(*) from s)::int as updated, (select muted from x) as muted, i.id, i.room_id, i.seq, i.sender_id, i.sender_name,
          i.content, i.type, i.reply_to_id, i.client_message_id, i.metadata, i.created_at
        from (select 1) as one left join i on true`)
      if (!row || Number(row.found) === 0) return { missing: 'room' }
      if (Number(row.updated) === 0) return { missing: row.muted === true ? 'muted' : 'member' }
      if (row.id === null) return { missing: 'duplicate' }
      return {
        message: {
          id: row.id,
          roomId: row.room_id,
          seq: Number(row.seq),
          senderId: row.sender_id,
          senderName: row.sender_name,
          content: row.content,
          type: row.type,
          replyToId: row.reply_to_id,
          clientMessageId: row.client_message_id,
          metadata: typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata,
          createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
          // The columns' defaults: a new message is not read back for them.
          version: 1,
          editedAt: null,
          deletedAt: null
        }
      }
    },

    /** Newest first: by `before` (a seq cursor) or by `offset` from the newest. */
    async history (roomId: string, page: { before?: number, limit: number, offset?: number }): Promise<StoredMessage[]> {
      if (!isUuid(roomId)) return []
      const where = page.before !== undefined
        ? and(eq(messages.roomId, roomId), lt(messages.seq, page.before))
        : eq(messages.roomId, roomId)
      const rows = await db.select().from(messages).where(where)
        .orderBy(desc(messages.seq)).limit(page.limit).offset(page.offset ?? 0)
      return rows
    },

    /** The newest `limit` messages after `sinceSeq`, newest first (a replay, issue 18). */
    async after (roomId: string, sinceSeq: number, limit: number): Promise<StoredMessage[]> {
      if (!isUuid(roomId)) return []
      return await db.select().from(messages).where(and(eq(messages.roomId, roomId), gt(messages.seq, sinceSeq)))
        .orderBy(desc(messages.seq)).limit(limit)
    },

    async countMessages (roomId: string): Promise<number> {
      if (!isUuid(roomId)) return 0
      const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(messages).where(eq(messages.roomId, roomId))
      return Number(row?.n ?? 0)
    }
  }
}

export type ChatRepository = ReturnType<typeof createChatRepository>
