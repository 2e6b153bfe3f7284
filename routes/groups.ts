import type { FastifyPluginAsync, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { groupRouteSchemas, type Group, type Member } from '../src/contract/chat.js'
import { createUserService } from '../src/auth/users.js'
import { decodeRoomCursor, encodeRoomCursor } from '../src/contract/cursor.js'
import { AppError } from '../src/errors.js'
import type { ChatMember, ChatRoom, ChatUser, MemberRole, RoomRef } from '../src/chat/types.js'
import { groupMessage } from '../src/chat/vocabularies/wire.js'

const me = (request: FastifyRequest): ChatUser => {
  const { id, username, displayName } = request.identity!
  return { id, username, displayName }
}

export function toGroup (room: ChatRoom, role: MemberRole, memberCount: number): Group {
  const { description, isPrivate } = room.metadata
  return {
    id: room.id,
    name: room.name,
    description: typeof description === 'string' ? description : null,
    isPrivate: isPrivate === true,
    createdBy: room.createdBy,
    createdAt: room.createdAt.toISOString(),
    memberCount,
    role,
    lastSeq: room.lastSeq
  }
}

const toMember = (m: ChatMember): Member => ({ userId: m.userId, userName: m.userName, role: m.role, joinedAt: m.joinedAt.toISOString() })

const group = (id: string): RoomRef & { kind: 'group' } => ({ kind: 'group', id })

/** CONTRACT §6, groups (seed 001) over REST: membership, cursor-paginated history, presence. */
const groupRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { chat } = app
  const users = createUserService({ db: app.sql.db })
  // Before validation: an anonymous caller learns nothing about the routes' inputs.
  app.addHook('onRequest', app.realtimeAuth.authenticate as onRequestAsyncHookHandler)

  /** The group and the caller's role; 404 for no such group, 403 for a non-member. */
  async function membership (groupId: string, userId: string) {
    const access = await chat.access(groupId, userId, 'group')
    if (!access) throw new AppError('ROOM_NOT_FOUND', 'Group not found', 404)
    if (access.role === null) throw new AppError('NOT_A_MEMBER', 'You are not a member of this group', 403)
    return { ...access, role: access.role }
  }

  app.post('/api/groups', { schema: groupRouteSchemas.create }, async (request, reply) => {
    const { name, description, isPrivate } = request.body
    const room = await chat.createRoom({
      kind: 'group',
      name: name.trim() || name,
      createdBy: me(request),
      metadata: { ...(description !== undefined ? { description } : {}), isPrivate: isPrivate ?? false }
    })
    return reply.code(201).send({ group: toGroup(room, 'owner', 1) })
  })

  app.get('/api/groups', { schema: groupRouteSchemas.list }, async (request) => {
    const { limit = 50, cursor } = request.query
    const { items, next } = await chat.roomsOf(me(request).id, 'group', { limit, after: decodeRoomCursor(cursor) })
    return { groups: items.map(g => toGroup(g.room, g.role, g.memberCount)), nextCursor: next ? encodeRoomCursor(next) : null }
  })

  app.get('/api/groups/:id', { schema: groupRouteSchemas.get }, async (request) => {
    const { room, role, memberCount } = await membership(request.params.id, me(request).id)
    return { group: toGroup(room, role, memberCount), members: (await chat.members(room.id)).map(toMember) }
  })

  app.delete('/api/groups/:id', { schema: groupRouteSchemas.remove }, async (request, reply) => {
    const { room, role } = await membership(request.params.id, me(request).id)
    if (role !== 'owner') throw new AppError('FORBIDDEN', 'Only the owner can delete the group', 403)
    await chat.deleteRoom(room.id)
    return reply.code(204).send(null)
  })

  app.post('/api/groups/:id/members', { schema: groupRouteSchemas.addMember }, async (request, reply) => {
    const { room, role: callerRole } = await membership(request.params.id, me(request).id)
    const role = (request.body.role ?? 'member').toLowerCase() as MemberRole
    if (callerRole === 'member') throw new AppError('FORBIDDEN', 'Only the owner or an admin can add members', 403)
    if (role === 'admin' && callerRole !== 'owner') throw new AppError('FORBIDDEN', 'Only the owner can add admins', 403)
    const { userId, userName } = request.body
    const registered = await users.byId(userId)
    const name = registered?.displayName ?? userName
    if (name === undefined) throw new AppError('USER_NOT_FOUND', 'No such user (give userName for a user of the embedding app)', 404)
    const { member, added } = await chat.addMember(room.id, { id: userId, name }, role)
    return reply.code(added ? 201 : 200).send({ member: toMember(member) })
  })

  app.delete('/api/groups/:id/members/:userId', { schema: groupRouteSchemas.removeMember }, async (request, reply) => {
    const caller = me(request)
    const { room, role: callerRole } = await membership(request.params.id, caller.id)
    const target = await chat.member(room.id, request.params.userId)
    if (!target) throw new AppError('NOT_A_MEMBER', 'That user is not a member of this group', 404)
    const self = target.userId === caller.id
    const allowed = target.role !== 'owner' && (self || callerRole === 'owner' || (callerRole === 'admin' && target.role === 'member'))
    if (!allowed) {
      throw new AppError('FORBIDDEN', target.role === 'owner' ? 'The owner cannot be removed' : 'Your role cannot remove that member', 403)
    }
    await chat.removeMember(group(room.id), target.userId)
    return reply.code(204).send(null)
  })

  app.get('/api/groups/:id/messages', { schema: groupRouteSchemas.messages }, async (request) => {
    const { room } = await membership(request.params.id, me(request).id)
    const limit = request.query.limit ?? 50
    const page = await chat.history(group(room.id), { before: request.query.before, limit })
    const oldest = page[page.length - 1]
    const more = page.length === limit && oldest !== undefined && (oldest.seq ?? 0) > 1
    return { messages: page.map(groupMessage), nextCursor: more ? oldest.seq : null }
  })

  app.get('/api/groups/:id/presence', { schema: groupRouteSchemas.presence }, async (request) => {
    const { room } = await membership(request.params.id, me(request).id)
    const info = await chat.roomInfo(group(room.id))
    return {
      groupId: room.id,
      onlineCount: info.onlineCount,
      onlineUserIds: info.onlineUserIds,
      socketCount: info.socketCount,
      onlineMembers: info.users.map(u => ({ userId: u.id, userName: u.displayName }))
    }
  })
}

export default groupRoutes
