import type { Database } from '../db/index.js'
import { AppError } from '../errors.js'
import type { Presence, ScopeLeft } from '../presence/service.js'
import type { Typing, TypingEntry } from './typing.js'
import type { Store } from '../store/types.js'
import { createChatRepository, type ChatMember, type ChatRoom, type MemberRole, type RoomPageQuery, type StoredKind, type StoredMessage } from './repository.js'
import { createProfiles, type ChatUser } from './profiles.js'
import { createSequencer } from './sequencer.js'
import { createDelivery, type ChatSocketPort } from './delivery.js'
import { ephemeralMessage, parseScope, scopeOf, userRoom, type ChatMessage, type RoomEmission, type RoomRef } from './types.js'
import { presenters } from './vocabularies/wire.js'
import { createChatLifecycleEvents, messageCreatedEvent, type ChatLifecycleEventMap } from './lifecycle-events.js'
import { noRoomEvents, type RoomEventSink } from '../services/room-events.js'
import { createChatPresence, type ChatPresenceParts } from './presence.js'
import { checkContent } from './text.js'
import { deletedRoomEvents } from '../presence/changes.js'
import { mutedError } from '../moderation/service.js'
import { createChangesRepository } from './changes-repository.js'

export interface ChatOptions extends ChatPresenceParts {
  database: Database
  store: Store
  /** The socket layer of `/` (its outbox): the service never sees a Socket.IO object. */
  sockets: ChatSocketPort
  presence: Presence
  typing: Typing
  /** CHAT_MAX_LENGTH: characters (code points) of a trimmed message. */
  maxLength: number
  /** Where stored messages are reported (message.created), in the message's transaction. */
  roomEvents?: RoomEventSink
  onError?: (err: unknown) => void
}

/** Who performs a room action: one socket of a user (on this instance or another). */
export interface SocketTarget { socketId: string, user: ChatUser }

export interface SendInput {
  room: RoomRef
  /** null for a system message (service API). */
  sender: ChatUser | null
  content: string
  type?: string
  replyToId?: string | null
  clientMessageId?: string | null
  metadata?: Record<string, unknown> | null
  /** The sending socket: it must have joined the room (NOT_IN_ROOM). */
  socketId?: string
  /** Skip the group membership check (server-side sends). */
  force?: boolean
}

const notFound = () => new AppError('ROOM_NOT_FOUND', 'Room not found', 404)
const notAMember = () => new AppError('NOT_A_MEMBER', 'You are not a member of this group', 403)

/** The name a message or event carries: seed 001 shows display names, seeds 003 and 004 usernames. */
const nameIn = (kind: RoomRef['kind'], user: ChatUser) => kind === 'group' ? user.displayName : user.username

export function toChatMessage (kind: StoredKind, m: StoredMessage): ChatMessage {
  const { roomId, ...rest } = m
  return { ...rest, room: { kind, id: roomId } }
}

/**
 * The chat core: rooms (group | code | channel), membership, messages with a per-room seq,
 * typing and presence. The three vocabularies (seeds 001, 003, 004) and the service API are
 * thin layers over it; what a room's clients see is shaped by its presenter (wire.ts).
 * Every broadcast goes through a Socket.IO room, so the adapter carries it across instances.
 */
export function createChatService (options: ChatOptions) {
  const { database, store, sockets, presence, typing, maxLength, roomEvents = noRoomEvents } = options
  const onError = options.onError ?? (() => {})
  const repo = createChatRepository(database.db)
  const changes = createChangesRepository(database.db)
  const sequencer = createSequencer(database)
  const profiles = createProfiles(store)
  const events = createChatLifecycleEvents(onError)
  const delivery = createDelivery({ sockets, presence, profiles, repo })
  const { deliver, online, view, enterRoom, exitRoom, emptyRoom, inRoom } = delivery
  const status = createChatPresence({ delivery, sockets, watchers: options.watchers, coalescer: options.coalescer })
  // A recovered socket keeps its id: its connect waits for the old disconnect's cleanup.
  const disconnecting = new Map<string, Promise<void>>()

  /** The user's typing indicators in the rooms stop; startedHereOnly: only those started on this instance (a send). */
  async function typingStops (user: ChatUser, rooms: RoomRef[], startedHereOnly = false): Promise<void> {
    const scopes = rooms.map(scopeOf)
    const cleared = startedHereOnly ? await typing.clearStartedHere(user.id, scopes) : await typing.clear(user.id, scopes)
    for (const scope of cleared) {
      const room = parseScope(scope)!
      await deliver(presenters[room.kind].typing(room, user, false), room, user.id)
    }
  }

  // ---- rooms and members ----------------------------------------------------------------

  /** Checks the user may be in the room; group: a member (unless forced), channel: it exists. */
  async function admit (room: RoomRef, userId: string, force = false): Promise<number | undefined> {
    if (room.kind === 'code') return undefined
    const access = await repo.access(room.id, userId, room.kind)
    if (!access) throw notFound()
    if (room.kind === 'group' && access.role === null && !force) throw notAMember()
    return access.memberCount
  }

  async function join (room: RoomRef, target: SocketTarget, opts: { force?: boolean, quiet?: boolean } = {}) {
    const memberCount = await admit(room, target.user.id, opts.force)
    const scope = scopeOf(room)
    let joined: { first: boolean, count: number }
    try {
      joined = await presence.join(target.socketId, scope)
    } catch (err) {
      if (await presence.userOf(target.socketId) === null) throw new AppError('SOCKET_NOT_FOUND', 'No such connected socket', 404)
      throw err
    }
    await enterRoom(target.socketId, scope)
    const current = view(room, memberCount)
    const emissions = await presenters[room.kind].joined(current, target.user, joined.first)
    await deliver(opts.quiet ? emissions.filter(e => e.to !== 'socket') : emissions, room, target.user.id, target.socketId)
    await status.joined(current, joined.first)
    events.emit('room:join', { room, user: target.user, socketId: target.socketId, first: joined.first })
    const reply = emissions.find(e => e.to === 'socket')?.payload
    return { room, first: joined.first, count: joined.count, reply }
  }

  async function leave (room: RoomRef, target: { socketId: string, user?: ChatUser }, opts: { confirm?: boolean } = {}) {
    const confirm = opts.confirm ?? true
    const scope = scopeOf(room)
    const result = await presence.leave(target.socketId, scope)
    exitRoom(target.socketId, scope)
    const userId = result.userId ?? target.user?.id
    if (userId === undefined) return { room, left: false, last: false }
    const user = target.user ?? await profiles.get(userId)
    if (result.left && result.last) await typingStops(user, [room])
    const current = view(room)
    await deliver(await presenters[room.kind].left(current, user, result.left && result.last, confirm), room, user.id, target.socketId)
    await status.left(current, result.left && result.last, confirm)
    if (result.left) events.emit('room:leave', { room, user, socketId: target.socketId, last: result.last })
    return { room, left: result.left, last: result.left && result.last }
  }

  /** Every socket of the user leaves the room (membership revoked, a kick), each told it left after `notice`. */
  async function evict (room: RoomRef, userId: string, notice: RoomEmission[] = []): Promise<void> {
    const scope = scopeOf(room)
    const user = await profiles.get(userId)
    for (const socketId of await presence.socketsOf(userId)) {
      if (!(await presence.scopesOfSocket(socketId)).includes(scope)) continue
      await deliver(notice, room, userId, socketId)
      await leave(room, { socketId, user })
    }
  }

  // ---- messages -------------------------------------------------------------------------

  async function send (input: SendInput): Promise<{ message: ChatMessage, duplicate: boolean }> {
    const { room, sender } = input
    const content = checkContent(input.content, maxLength)
    // A group send checks membership. On the plain path (no client id, no reply) the insert does
    // it in its own statement; otherwise, and before NOT_IN_ROOM, a query of its own keeps which
    // error wins as it was.
    const checksMember = room.kind === 'group' && sender !== null
    const plain = (input.clientMessageId ?? null) === null && (input.replyToId ?? null) === null
    let admitted = !checksMember
    if (checksMember && !plain) {
      await admit(room, sender.id, input.force)
      admitted = true
    }
    if (input.socketId !== undefined && !(await inRoom(input.socketId, room))) {
      if (!admitted) await admit(room, sender!.id, input.force)
      throw new AppError('NOT_IN_ROOM', 'Join the room before sending to it')
    }
    const memberId = !admitted && input.force !== true ? sender!.id : null
    const senderId = sender?.id ?? null
    const senderName = sender ? nameIn(room.kind, sender) : 'system'
    const type = input.type ?? (room.kind === 'group' ? 'TEXT' : 'text')
    const presenter = presenters[room.kind]
    let message: ChatMessage

    if (room.kind === 'code') {
      message = ephemeralMessage(room, { senderId, senderName, content, type, metadata: input.metadata ?? null })
      await deliver(presenter.message(message), room, senderId ?? '')
    } else {
      const kind = room.kind
      const clientMessageId = senderId !== null ? input.clientMessageId ?? null : null
      if (clientMessageId !== null) {
        const first = await repo.messageByClientId(room.id, senderId!, clientMessageId)
        if (first) return { message: toChatMessage(kind, first), duplicate: true }
      }
      const replyToId = input.replyToId ?? null
      const reported = roomEvents.wants('message.created')
      const outcome = await sequencer.run(room.id, async (tx, statement) => {
        if (replyToId !== null && !(await repo.messageInRoom(tx, room.id, replyToId))) {
          throw new AppError('INVALID_REQUEST', 'replyToId is not a message of this room')
        }
        const result = await repo.insertMessage(statement, kind, {
          roomId: room.id, senderId, senderName, content, type, replyToId, clientMessageId, metadata: input.metadata ?? null
        }, memberId)
        if (reported && 'message' in result) await roomEvents.write([messageCreatedEvent(kind, result.message)], tx)
        return result
      }, async (result) => {
        if ('message' in result) {
          await deliver(presenter.message(toChatMessage(kind, result.message)), room, senderId ?? '').catch(onError)
        }
      }, { transaction: reported })
      if ('missing' in outcome) {
        if (outcome.missing === 'room') throw notFound()
        if (outcome.missing === 'member') throw notAMember()
        if (outcome.missing === 'muted') throw mutedError()
        // Another send with the same clientMessageId committed first.
        const first = await repo.messageByClientId(room.id, senderId!, clientMessageId!)
        if (!first) throw new AppError('INTERNAL_ERROR', 'Duplicate message not found', 500)
        return { message: toChatMessage(kind, first), duplicate: true }
      }
      message = toChatMessage(kind, outcome.message)
    }
    if (sender) await typingStops(sender, [room], true).catch(onError)
    events.emit('message', message)
    return { message, duplicate: false }
  }

  // ---- the chat API -----------------------------------------------------------------------

  return {
    /** Payload shapes of each vocabulary (REST histories use them too). */
    presenters,
    profiles,
    watchers: options.watchers,
    repository: repo,
    /** Edits, deletes and reactions (issue 21: src/chat/edits.ts, reactions.ts). */
    changes,
    sequencer,
    on: events.on,
    /** Hands emissions of `/` to the socket layer (a vocabulary's answer outside an ack). */
    deliver,
    online,
    inRoom,
    join,
    leave,
    evict,
    send,

    /**
     * A socket of `user` arrived: presence, its `user:{id}` room, its name for other instances.
     * `recovered`: connection state recovery restored its Socket.IO `rooms`; presence follows.
     */
    async connect (socketId: string, user: ChatUser, restored: { recovered: boolean, rooms: Iterable<string> }): Promise<{ firstSocket: boolean }> {
      await disconnecting.get(socketId)
      const { firstSocket } = await presence.connect(socketId, user.id)
      await enterRoom(socketId, userRoom(user.id))
      await profiles.save(user)
      if (firstSocket) await status.status(user.id, 'online')
      if (restored.recovered) {
        for (const scope of [...restored.rooms]) {
          const room = parseScope(scope)
          if (!room) continue
          await join(room, { socketId, user }, { quiet: true }).catch(() => exitRoom(socketId, scope))
        }
      }
      events.emit('connection', { user, socketId, firstSocket })
      return { firstSocket }
    },

    /** The socket is gone: it leaves every room (left only on the user's last socket), typing cleared. */
    disconnect (socketId: string, user: ChatUser, reason = 'disconnect'): Promise<void> {
      const work = (async () => {
        await options.watchers.drop(socketId)
        const { lastSocket, left } = await presence.disconnect(socketId)
        const rooms = left.map(l => parseScope(l.scope)).filter(r => r !== null)
        await typingStops(user, rooms)
        for (const l of left) {
          const room = parseScope(l.scope)
          if (!room || !l.last) continue
          await status.lastLeft(room, user)
          events.emit('room:leave', { room, user, socketId, last: true })
        }
        if (lastSocket) await status.status(user.id, 'offline')
        events.emit('disconnect', { user, socketId, reason, lastSocket })
      })()
      const settled = work.catch(() => {})
      disconnecting.set(socketId, settled)
      settled.then(() => { if (disconnecting.get(socketId) === settled) disconnecting.delete(socketId) })
      return work
    },

    /** Users the presence hub removed without a socket event (crashed instance, shutdown); `offline`: gone everywhere. */
    async usersGone (left: ScopeLeft[], offline: string[] = []): Promise<void> {
      const gone = new Set<string>(offline)
      for (const l of left) {
        const room = parseScope(l.scope)
        if (!room) continue
        gone.add(l.userId)
        if (!l.last) continue
        const user = await profiles.get(l.userId)
        await typingStops(user, [room])
        await status.lastLeft(room, user)
      }
      for (const userId of gone) {
        if (!(await presence.isOnline(userId))) await status.status(userId, 'offline')
      }
    },

    /** A typing indicator ran out (reported by exactly one instance). */
    async typingExpired ({ scope, userId }: TypingEntry): Promise<void> {
      const room = parseScope(scope)
      if (!room) return
      const user = await profiles.get(userId)
      await deliver(presenters[room.kind].typing(room, user, false), room, userId)
    },

    async setTyping (room: RoomRef, user: ChatUser, isTyping: boolean, socketId?: string): Promise<void> {
      if (socketId !== undefined && !(await inRoom(socketId, room))) {
        throw new AppError('NOT_IN_ROOM', 'Join the room before typing in it')
      }
      const scope = scopeOf(room)
      const tell = isTyping ? (await typing.start(scope, user.id)).broadcast : (await typing.stop(scope, user.id)).wasTyping
      if (tell) await deliver(presenters[room.kind].typing(room, user, isTyping), room, user.id)
    },

    /** Online users and sockets of a room, across instances. */
    async roomInfo (room: RoomRef) {
      const users = await online(room)
      return {
        onlineCount: users.length,
        onlineUserIds: users.map(u => u.id),
        socketCount: users.reduce((n, u) => n + u.sockets, 0),
        users
      }
    },

    async createRoom (input: {
      kind: StoredKind
      name: string
      namespace?: string
      createdBy?: ChatUser | null
      metadata?: Record<string, unknown>
    }): Promise<ChatRoom> {
      const owner = input.createdBy ? { id: input.createdBy.id, name: nameIn(input.kind, input.createdBy) } : undefined
      return await repo.createRoom({ ...input, createdBy: input.createdBy?.id ?? null, owner })
    },

    getRoom: (id: string, kind?: StoredKind) => repo.room(id, kind),
    listRooms: (filter?: { kind?: StoredKind, namespace?: string }, page?: RoomPageQuery) => repo.rooms(filter, page),
    roomsOf: (userId: string, kind: StoredKind, page?: RoomPageQuery) => repo.roomsOf(userId, kind, page),
    access: (id: string, userId: string, kind?: StoredKind) => repo.access(id, userId, kind),
    member: (roomId: string, userId: string) => repo.member(roomId, userId),
    members: (roomId: string): Promise<ChatMember[]> => repo.members(roomId),
    countMessages: (roomId: string) => repo.countMessages(roomId),

    /** Stored messages, newest first: `before` a seq (cursor) or `offset` from the newest. */
    async history (room: RoomRef & { kind: StoredKind }, page: { before?: number, limit: number, offset?: number }): Promise<ChatMessage[]> {
      return await changes.withReactions((await repo.history(room.id, page)).map(m => toChatMessage(room.kind, m)))
    },

    async addMember (roomId: string, user: { id: string, name: string }, role: MemberRole = 'member') {
      return await repo.addMember(roomId, user, role)
    },

    /** Removes a member; their sockets leave the room at once. */
    async removeMember (room: RoomRef & { kind: StoredKind }, userId: string): Promise<boolean> {
      const removed = await repo.removeMember(room.id, userId)
      if (removed) await evict(room, userId)
      return removed
    },

    /** Deletes a stored room with its members and messages; its sockets are told and taken out. */
    async deleteRoom (id: string): Promise<boolean> {
      const stored = await repo.room(id)
      if (!stored) return false
      const room: RoomRef = { kind: stored.kind, id }
      const scope = scopeOf(room)
      const present = await presence.members(scope)
      // The room's departures (room.vacated) commit with its deletion, once whichever instance deletes.
      const deleted = await database.db.transaction(async (tx) => {
        if (!(await repo.deleteRoom(id, tx))) return false
        await roomEvents.write(deletedRoomEvents(room, present.map(m => m.userId)), tx)
        return true
      })
      if (!deleted) return false
      await deliver(presenters[room.kind].closed(room), room, '')
      for (const member of await presence.members(scope)) {
        await typing.clear(member.userId, [scope])
        for (const socketId of await presence.socketsOf(member.userId)) await presence.leaveDeleted(socketId, scope)
      }
      emptyRoom(scope)
      status.closed(room)
      return true
    }
  }
}

export type Chat = ReturnType<typeof createChatService>
export type { ChatLifecycleEventMap }
