import type { FastifyPluginAsync, onRequestAsyncHookHandler } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { moderationRouteSchemas, type ModerationActionView } from '../src/contract/moderation.js'
import { decodeRoomCursor, encodeRoomCursor } from '../src/contract/cursor.js'
import { AppError } from '../src/errors.js'
import type { ModerationAction, ModerationActionName } from '../src/moderation/service.js'

export const toActionView = (a: ModerationAction): ModerationActionView => ({
  id: a.id,
  action: a.action,
  roomKind: a.room.kind,
  roomId: a.room.id,
  targetUserId: a.targetUserId,
  actorId: a.actor.id,
  actorKind: a.actor.kind,
  until: a.until?.toISOString() ?? null,
  reason: a.reason,
  createdAt: a.createdAt.toISOString()
})

const ACTIONS: ModerationActionName[] = ['kick', 'ban', 'mute', 'unban', 'unmute']

/**
 * Issue 21, admin REST: kick, ban, mute (and lift them) in any kind of room, and the audit log.
 * Guarded as the other admin routes: an admin JWT or `x-api-key`.
 */
const moderationRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { moderation } = app
  app.addHook('onRequest', app.realtimeAuth.requireAdmin as onRequestAsyncHookHandler)

  for (const action of ACTIONS) {
    app.post(`/api/moderation/:kind/:roomId/${action}`, { schema: moderationRouteSchemas[action] }, async (request) => {
      const room = { kind: request.params.kind, id: request.params.roomId }
      if (!(await moderation.exists(room))) throw new AppError('ROOM_NOT_FOUND', 'Room not found', 404)
      const { userId, until, reason } = request.body
      const done = await moderation.act({
        room,
        action,
        targetUserId: userId,
        until: until === undefined ? null : new Date(until),
        reason: reason ?? null,
        actor: { id: request.identity?.id ?? null, kind: 'admin' }
      })
      return { action: toActionView(done) }
    })
  }

  app.get('/api/moderation/actions', { schema: moderationRouteSchemas.actions }, async (request) => {
    const { kind, roomId, limit = 50, cursor } = request.query
    if (roomId !== undefined && kind === undefined) throw new AppError('INVALID_REQUEST', 'roomId needs kind')
    const room = kind !== undefined && roomId !== undefined ? { kind, id: roomId } : undefined
    const { items, next } = await moderation.actions({ room, kind }, { limit, after: decodeRoomCursor(cursor) })
    return { actions: items.map(toActionView), nextCursor: next ? encodeRoomCursor(next) : null }
  })
}

export default moderationRoutes
