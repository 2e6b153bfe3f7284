import { eq, sql } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { chatRooms, messages } from '../db/schema/index.js'
import { AppError } from '../errors.js'
import type { Chat } from '../chat/service.js'
import type { RoomPageQuery } from '../chat/repository.js'
import type { Page } from '../contract/cursor.js'
import { scopeOf, type ChatRoom, type RoomRef } from '../chat/types.js'
import type { Presence } from '../presence/service.js'
import type { Store } from '../store/types.js'
import { realtimeKeys } from './registry.js'
import type { Room } from './types.js'

export const channel = (id: string): RoomRef => ({ kind: 'channel', id })
export const roomNotFound = () => new AppError('ROOM_NOT_FOUND', 'Room not found', 404)

export interface RoomViewsOptions {
  chat: Chat
  presence: Presence
  store: Store
  db: Db
  now: () => number
}

/**
 * Seed 004's rooms over chat-core channels: the stored room, who is in it now (presence,
 * every instance) and when it was last active (its last message in SQL, its last join or
 * leave in the store).
 */
export function createRoomViews ({ chat, presence, store, db, now }: RoomViewsOptions) {
  async function joinedAt (roomId: string): Promise<number> {
    return Number(await store.hGet(realtimeKeys.roomActivity, roomId)) || 0
  }

  async function view (room: ChatRoom, joined?: number): Promise<Room> {
    const [members, lastJoin] = await Promise.all([presence.members(scopeOf(channel(room.id))), joined ?? joinedAt(room.id)])
    return {
      id: room.id,
      name: room.name,
      namespace: room.namespace,
      createdBy: room.createdBy,
      metadata: room.metadata,
      createdAt: room.createdAt,
      lastActivity: new Date(Math.max(room.lastActivityAt.getTime(), lastJoin)),
      members: new Set(members.map((m) => m.userId))
    }
  }

  /** One page of rooms in creation order (every room without `page`). */
  async function listPage (namespace?: string, page?: RoomPageQuery): Promise<Page<Room>> {
    const [rooms, joins] = await Promise.all([chat.listRooms({ kind: 'channel', namespace }, page), store.hGetAll(realtimeKeys.roomActivity)])
    return { items: await Promise.all(rooms.items.map((r) => view(r, Number(joins[r.id]) || 0))), next: rooms.next }
  }

  return {
    view,

    async get (roomId: string): Promise<Room | null> {
      const room = await chat.getRoom(roomId, 'channel')
      return room ? await view(room) : null
    },

    async list (namespace?: string): Promise<Room[]> {
      return (await listPage(namespace)).items
    },

    page: listPage,

    /** The stored channel, or ROOM_NOT_FOUND. */
    async stored (roomId: string): Promise<ChatRoom> {
      const room = await chat.getRoom(roomId, 'channel')
      if (!room) throw roomNotFound()
      return room
    },

    /** The room of a `room:*` event; one deleted meanwhile is described by its id alone. */
    async ofEvent (roomId: string): Promise<Room> {
      const room = await chat.getRoom(roomId, 'channel')
      if (room) return await view(room)
      const at = new Date(now())
      return { id: roomId, name: roomId, namespace: 'default', createdBy: null, metadata: {}, createdAt: at, lastActivity: at, members: new Set() }
    },

    joinedAt,

    /** A join or leave happened now. */
    async touch (roomId: string): Promise<void> {
      await store.hSet(realtimeKeys.roomActivity, { [roomId]: String(now()) })
    },

    async forget (roomId: string): Promise<void> {
      await store.hDel(realtimeKeys.roomActivity, roomId)
    },

    /** Channels and their stored messages, for getStats. */
    async totals (): Promise<{ rooms: number, messages: number }> {
      const [[rooms], [stored]] = await Promise.all([
        db.select({ n: sql<number>`count(*)::int` }).from(chatRooms).where(eq(chatRooms.kind, 'channel')),
        db.select({ n: sql<number>`count(*)::int` }).from(messages)
          .innerJoin(chatRooms, eq(chatRooms.id, messages.roomId)).where(eq(chatRooms.kind, 'channel'))
      ])
      return { rooms: Number(rooms?.n ?? 0), messages: Number(stored?.n ?? 0) }
    }
  }
}

export type RoomViews = ReturnType<typeof createRoomViews>
