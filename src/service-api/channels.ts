import { isUuid } from '../chat/repository.js'
import { checkMetadata } from '../contract/metadata.js'
import { decodeRoomCursor, encodeRoomCursor } from '../contract/cursor.js'
import { chatUserOf, invalid, liveSocket, toMessage, type ServiceApiContext } from './context.js'
import { channel, roomNotFound } from './rooms.js'
import { MESSAGE_TYPES, type Message, type MessageType, type Room, type RoomMember } from './types.js'

const MAX_PAGE = 1000

/** Seed 004's rooms (chat channels), who is in them and their messages. */
export function channelMethods (ctx: ServiceApiContext) {
  const { chat, rooms } = ctx
  return {
    async createRoom (name: string, namespace = 'default', createdBy?: string | null, metadata: Record<string, unknown> = {}): Promise<Room> {
      if (typeof name !== 'string' || name.trim() === '' || name.length > 100) throw invalid('name must be 1-100 characters')
      if (typeof namespace !== 'string' || namespace === '' || namespace.length > 64) throw invalid('namespace must be 1-64 characters')
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw invalid('metadata must be an object')
      checkMetadata(metadata, ctx.metadataMaxBytes)
      const owner = createdBy ? await chatUserOf(ctx, createdBy) : null
      const room = await chat.createRoom({ kind: 'channel', name: name.trim(), namespace, createdBy: owner, metadata })
      return await rooms.view(room, 0)
    },

    getRoom: (roomId: string): Promise<Room | null> => rooms.get(roomId),

    listRooms: (namespace?: string): Promise<Room[]> => rooms.list(namespace),

    /** One page of `listRooms` (admin REST): at most `limit` rooms after the `cursor` of the last page. */
    async listRoomPage (namespace: string | undefined, page: { limit: number, cursor?: string }): Promise<{ rooms: Room[], nextCursor: string | null }> {
      const { items, next } = await rooms.page(namespace, { limit: page.limit, after: decodeRoomCursor(page.cursor) })
      return { rooms: items, nextCursor: next ? encodeRoomCursor(next) : null }
    },

    /** Makes a socket (on this instance or another) join a room, as its `room:join` would. */
    async joinRoom (socketId: string, roomId: string): Promise<void> {
      const socket = await liveSocket(ctx, socketId)
      await chat.join(channel(roomId), { socketId, user: { id: socket.userId, username: socket.username, displayName: socket.displayName } })
    },

    async leaveRoom (socketId: string, roomId: string): Promise<void> {
      const socket = await liveSocket(ctx, socketId)
      await rooms.stored(roomId)
      await chat.leave(channel(roomId), { socketId, user: { id: socket.userId, username: socket.username, displayName: socket.displayName } })
    },

    /** Deletes the room and its history; its sockets get `room:deleted` and leave it. False if there was none. */
    async deleteRoom (roomId: string): Promise<boolean> {
      if (!(await chat.getRoom(roomId, 'channel'))) return false
      const deleted = await chat.deleteRoom(roomId)
      await rooms.forget(roomId)
      return deleted
    },

    /** Users in the room now, on every instance ([] for a room that does not exist). */
    async getRoomMembers (roomId: string): Promise<RoomMember[]> {
      const online = await chat.online(channel(roomId))
      return online.map((u) => ({ id: u.id, userId: u.id, username: u.username, displayName: u.displayName, sockets: u.sockets }))
    },

    /**
     * Stores a message from `userId` (null: a system message) and sends it to the room as
     * seed 004's `message`. Content rules as for clients (trimmed, 1..CHAT_MAX_LENGTH); no rate limit.
     */
    async sendMessage (roomId: string, userId: string | null, content: string, type: MessageType = 'text', metadata?: Record<string, unknown>): Promise<Message> {
      if (!MESSAGE_TYPES.includes(type)) throw invalid(`type must be one of ${MESSAGE_TYPES.join(', ')}`)
      if (typeof content !== 'string') throw invalid('content must be a string')
      if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) throw invalid('metadata must be an object')
      if (!isUuid(roomId)) throw roomNotFound()
      const sender = userId ? await chatUserOf(ctx, userId) : null
      const { message } = await chat.send({ room: channel(roomId), sender, content, type, metadata: metadata ?? null, force: true })
      return toMessage(message)
    },

    /** The `limit` messages before the newest `offset` ones, oldest first (as a chat shows them). */
    async getRoomMessages (roomId: string, limit = 50, offset = 0): Promise<Message[]> {
      if (!Number.isInteger(limit) || limit < 1) throw invalid('limit must be a positive integer')
      if (!Number.isInteger(offset) || offset < 0) throw invalid('offset must be a non-negative integer')
      const page = await chat.history({ kind: 'channel', id: roomId }, { limit: Math.min(limit, MAX_PAGE), offset })
      return page.reverse().map(toMessage)
    }
  }
}
