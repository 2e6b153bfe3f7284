import type { FastifyPluginAsync, onRequestAsyncHookHandler } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { channelRouteSchemas, type Channel, type ChannelListItem } from '../src/contract/chat.js'
import { decodeRoomCursor, encodeRoomCursor } from '../src/contract/cursor.js'
import { checkMetadata } from '../src/contract/metadata.js'
import { AppError } from '../src/errors.js'
import type { ChatRoom } from '../src/chat/types.js'
import { channelMessage } from '../src/chat/vocabularies/wire.js'

const toChannelListItem = (room: ChatRoom): ChannelListItem => ({
  id: room.id,
  name: room.name,
  namespace: room.namespace,
  createdBy: room.createdBy,
  createdAt: room.createdAt.toISOString(),
  lastActivityAt: room.lastActivityAt.toISOString(),
  lastSeq: room.lastSeq
})

export const toChannel = (room: ChatRoom): Channel => ({ ...toChannelListItem(room), metadata: room.metadata })

/**
 * CONTRACT §6, channels (seed 004) for registered users: create, list, read history. Admin
 * management of every room is the service API's `/api/rooms` (CONTRACT §7).
 */
const channelRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { chat } = app
  app.addHook('onRequest', app.realtimeAuth.authenticate as onRequestAsyncHookHandler)

  async function channelOf (id: string): Promise<ChatRoom> {
    const room = await chat.getRoom(id, 'channel')
    if (!room) throw new AppError('ROOM_NOT_FOUND', 'Channel not found', 404)
    return room
  }

  app.post('/api/channels', { schema: channelRouteSchemas.create }, async (request, reply) => {
    const { id, username, displayName } = request.identity!
    const { name, namespace, metadata } = request.body
    checkMetadata(metadata, app.realtimeConfig.channelMetadataMaxBytes)
    const room = await chat.createRoom({ kind: 'channel', name: name.trim() || name, namespace, metadata, createdBy: { id, username, displayName } })
    return reply.code(201).send({ channel: toChannel(room) })
  })

  app.get('/api/channels', { schema: channelRouteSchemas.list }, async (request) => {
    const { namespace, limit = 50, cursor } = request.query
    const { items, next } = await chat.listRooms({ kind: 'channel', namespace }, { limit, after: decodeRoomCursor(cursor) })
    return { channels: items.map(toChannelListItem), nextCursor: next ? encodeRoomCursor(next) : null }
  })

  app.get('/api/channels/:id', { schema: channelRouteSchemas.get }, async (request) => {
    const room = await channelOf(request.params.id)
    const { onlineCount } = await chat.roomInfo({ kind: 'channel', id: room.id })
    return { channel: toChannel(room), onlineCount }
  })

  app.get('/api/channels/:id/messages', { schema: channelRouteSchemas.messages }, async (request) => {
    const room = await channelOf(request.params.id)
    const limit = request.query.limit ?? 50
    const page = await chat.history({ kind: 'channel', id: room.id }, { before: request.query.before, limit })
    const oldest = page[page.length - 1]
    const more = page.length === limit && oldest !== undefined && (oldest.seq ?? 0) > 1
    return { messages: page.map(channelMessage), nextCursor: more ? oldest.seq : null }
  })
}

export default channelRoutes
