import type { FastifyPluginAsync, onRequestAsyncHookHandler } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { readRouteSchemas } from '../src/contract/reads.js'
import { decodeRoomCursor, encodeRoomCursor } from '../src/contract/cursor.js'

/** Issue 21: the caller's unread counts in their groups (read receipts are marked over `/`, `mark_read`). */
const readRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const reads = app.chatReads
  app.addHook('onRequest', app.realtimeAuth.authenticate as onRequestAsyncHookHandler)

  app.get('/api/groups/unread', { schema: readRouteSchemas.all }, async (request) => {
    const { limit = 50, cursor } = request.query
    const { items, next } = await reads.unreadPage(request.identity!.id, { limit, after: decodeRoomCursor(cursor) })
    return { rooms: items, nextCursor: next ? encodeRoomCursor(next) : null }
  })

  app.get('/api/groups/:id/unread', { schema: readRouteSchemas.one }, async (request) => {
    return await reads.unreadIn(request.params.id, request.identity!.id)
  })
}

export default readRoutes
