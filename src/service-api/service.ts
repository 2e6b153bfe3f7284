import { EventEmitter } from 'node:events'
import type { Server, Socket } from 'socket.io'
import type { Database } from '../db/index.js'
import { AppError } from '../errors.js'
import { createUserService } from '../auth/users.js'
import type { Chat } from '../chat/core.js'
import { isUuid } from '../chat/repository.js'
import { scopeOf, userRoom, type ChatMessage, type ChatUser } from '../chat/types.js'
import { channelMessage } from '../chat/wire.js'
import type { Presence } from '../services/presence.js'
import type { InstanceRegistry } from '../services/instances.js'
import type { Store } from '../store/types.js'
import { createConnectionRegistry, type LiveSocket } from './registry.js'
import { channel, createRoomViews, roomNotFound } from './rooms.js'
import {
  MESSAGE_TYPES, type BroadcastOptions, type ConnectedUser, type ConnectionStats, type Message, type MessageType,
  type RealtimeEventMap, type Room, type RoomMember, type RoomStats, type SocketUser
} from './types.js'

export interface RealtimeServiceOptions {
  io: Server
  chat: Chat
  presence: Presence
  store: Store
  instances: Pick<InstanceRegistry, 'isAlive'>
  database: Database
  instanceId: string
  /** Work started by events that shutdown must wait for (the presence hub's `track`). */
  track?: <T>(work: Promise<T>) => Promise<T>
  now?: () => number
  /** How often a socket's activity is written at most (default 5 s). */
  activityResolutionMs?: number
  onError?: (err: unknown) => void
}

/** Event names Socket.IO gives a meaning of its own: a broadcast must never fake them. */
const RESERVED_EVENTS = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'])
const MAX_PAGE = 1000
const SHUTDOWN_WAIT_MS = 5_000

const socketNotFound = () => new AppError('SOCKET_NOT_FOUND', 'No such connected socket', 404)
const invalid = (message: string) => new AppError('INVALID_REQUEST', message)

function checkEvent (event: unknown): string {
  if (typeof event !== 'string' || event.length === 0 || event.length > 100) throw invalid('event must be 1-100 characters')
  if (RESERVED_EVENTS.has(event)) throw invalid(`"${event}" is reserved by Socket.IO`)
  return event
}

function toSocketUser (s: LiveSocket): SocketUser {
  return {
    id: s.userId,
    userId: s.userId,
    socketId: s.socketId,
    username: s.username,
    displayName: s.displayName,
    instanceId: s.instanceId,
    connectedAt: new Date(s.connectedAt),
    lastActivity: new Date(s.lastActivity)
  }
}

const toMessage = (m: ChatMessage): Message => ({ ...channelMessage(m), metadata: m.metadata })

/**
 * Seed 004's WebSocketService over the chat core, correct across instances: who is connected
 * and where comes from the store (presence and the connection registry), rooms and messages
 * from SQL, and every emission goes through the Socket.IO adapter, so it reaches sockets on
 * every instance.
 *
 * Every method returns a Promise, including the ones seed 004 shows as synchronous (`getUser`,
 * `getConnectedUsers`, `isUserOnline`, `getUserSockets`, `getRoom`, `listRooms`,
 * `getRoomMembers`, `getRoomMessages`, `getStats`, `getRoomStats`): seed code calling them
 * must `await` them (`if (await realtime.isUserOnline(id))`; without `await` the Promise is
 * always truthy).
 */
export function createRealtimeService (options: RealtimeServiceOptions) {
  const { io, chat, presence, store, database, instanceId } = options
  const now = options.now ?? Date.now
  const onError = options.onError ?? (() => {})
  const nsp = io.of('/')
  const users = createUserService({ db: database.db })
  const registry = createConnectionRegistry({
    store,
    instanceId,
    instances: options.instances,
    now,
    activityResolutionMs: options.activityResolutionMs ?? 5_000,
    isLocal: (socketId) => nsp.sockets.has(socketId)
  })
  const rooms = createRoomViews({ chat, presence, store, db: database.db, now })
  const emitter = new EventEmitter<RealtimeEventMap>()
  const inflight = new Set<Promise<unknown>>()
  let accepting = true

  /** Background work from events: tracked for shutdown, errors reported. */
  function run (work: Promise<unknown>): void {
    const tracked = (options.track ? options.track(work) : work).catch(onError)
    inflight.add(tracked)
    tracked.finally(() => inflight.delete(tracked))
  }

  function emit<K extends keyof RealtimeEventMap> (event: K, ...args: RealtimeEventMap[K]): void {
    try {
      (emitter.emit as (e: K, ...a: RealtimeEventMap[K]) => boolean)(event, ...args)
    } catch (err) {
      onError(err)
    }
  }

  /** A socket as the `room:*` and `disconnect` events describe it, from its registry entry if any. */
  function describe (entry: LiveSocket | null, user: ChatUser, socketId: string | null): SocketUser {
    if (entry) return toSocketUser(entry)
    const at = new Date(now())
    return {
      id: user.id, userId: user.id, socketId: socketId ?? '', username: user.username, displayName: user.displayName, instanceId: '', connectedAt: at, lastActivity: at
    }
  }

  /** Who a server-side user id is: a registered user, else the profile their token gave. */
  async function chatUserOf (userId: string): Promise<ChatUser> {
    const registered = await users.byId(userId)
    if (registered) return { id: registered.id, username: registered.username, displayName: registered.displayName }
    return await chat.profiles.get(userId)
  }

  async function liveSocket (socketId: string): Promise<LiveSocket> {
    if (typeof socketId !== 'string' || socketId === '') throw socketNotFound()
    const entry = await registry.get(socketId)
    if (!entry) throw socketNotFound()
    return entry
  }

  async function userSockets (userId: string): Promise<LiveSocket[]> {
    return await registry.pick(await presence.socketsOf(userId))
  }

  async function disconnect (rooms: string[]): Promise<void> {
    await Promise.resolve(nsp.adapter.disconnectSockets({ rooms: new Set(rooms), except: new Set(), flags: {} }, true) as unknown)
  }

  // ---- the chat core's events, as seed 004's ------------------------------------------------

  const unsubscribe = [
    chat.on('connection', ({ user, socketId }) => {
      const { entry, written } = registry.add(socketId, user)
      run(written.then(() => { emit('connection', toSocketUser(entry)) }))
    }),
    chat.on('disconnect', ({ user, socketId, reason }) => {
      run(Promise.all([registry.remove(socketId), registry.takeKick(socketId)]).then(([entry, kicked]) => {
        emit('disconnect', describe(entry, user, socketId), kicked ?? reason)
      }))
    }),
    chat.on('message', (message) => {
      if (message.room.kind === 'channel') emit('message', toMessage(message))
    }),
    chat.on('room:join', ({ room, user, socketId }) => {
      if (room.kind !== 'channel') return
      run((async () => {
        const [entry] = await Promise.all([registry.get(socketId), rooms.touch(room.id)])
        emit('room:join', { user: describe(entry, user, socketId), room: await rooms.ofEvent(room.id) })
      })())
    }),
    chat.on('room:leave', ({ room, user, socketId }) => {
      if (room.kind !== 'channel') return
      run((async () => {
        const [entry] = await Promise.all([socketId === null ? null : registry.get(socketId), rooms.touch(room.id)])
        emit('room:leave', { user: describe(entry, user, socketId), room: await rooms.ofEvent(room.id) })
      })())
    })
  ]

  // Activity: any client event on `/` (throttled); after shutdown, no new connections.
  // One listener shared by every socket (`this` is the socket): no closure per connection.
  function touched (this: Socket): void {
    const written = registry.touch(this.id)
    if (written) run(written)
  }
  const onConnection = (socket: Socket) => { socket.onAny(touched) }
  nsp.on('connection', onConnection)
  nsp.use((_socket, next) => {
    if (accepting) return next()
    next(Object.assign(new Error('Service unavailable'), { data: { code: 'SERVICE_UNAVAILABLE', message: 'The service is shutting down' } }))
  })
  const offSweep = presence.onSweep((report) => { run(registry.purgeInstance(report.instanceId)) })

  const api = {
    // ---- connections ------------------------------------------------------------------------

    /** The socket, on any instance; null when it is not connected to `/`. */
    async getUser (socketId: string): Promise<SocketUser | null> {
      const entry = typeof socketId === 'string' && socketId !== '' ? await registry.get(socketId) : null
      return entry ? toSocketUser(entry) : null
    },

    /** Users with a socket on `/`, on every instance, one entry per user. */
    async getConnectedUsers (): Promise<ConnectedUser[]> {
      const byUser = new Map<string, ConnectedUser>()
      for (const s of (await registry.all()).sort((a, b) => a.connectedAt - b.connectedAt)) {
        const user = byUser.get(s.userId)
        if (!user) {
          byUser.set(s.userId, {
            id: s.userId, userId: s.userId, username: s.username, displayName: s.displayName, socketIds: [s.socketId], connectedAt: new Date(s.connectedAt), lastActivity: new Date(s.lastActivity)
          })
        } else {
          user.socketIds.push(s.socketId)
          if (s.lastActivity > user.lastActivity.getTime()) user.lastActivity = new Date(s.lastActivity)
        }
      }
      return [...byUser.values()]
    },

    async isUserOnline (userId: string): Promise<boolean> {
      return (await userSockets(userId)).length > 0
    },

    /** Socket ids of the user on `/`, every instance (tabs and devices). */
    async getUserSockets (userId: string): Promise<string[]> {
      return (await userSockets(userId)).map((s) => s.socketId)
    },

    // ---- rooms (chat-core channels) ---------------------------------------------------------

    async createRoom (name: string, namespace = 'default', createdBy?: string | null, metadata: Record<string, unknown> = {}): Promise<Room> {
      if (typeof name !== 'string' || name.trim() === '' || name.length > 100) throw invalid('name must be 1-100 characters')
      if (typeof namespace !== 'string' || namespace === '' || namespace.length > 64) throw invalid('namespace must be 1-64 characters')
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw invalid('metadata must be an object')
      const owner = createdBy ? await chatUserOf(createdBy) : null
      const room = await chat.createRoom({ kind: 'channel', name: name.trim(), namespace, createdBy: owner, metadata })
      return await rooms.view(room, 0)
    },

    getRoom: (roomId: string): Promise<Room | null> => rooms.get(roomId),

    listRooms: (namespace?: string): Promise<Room[]> => rooms.list(namespace),

    /** Makes a socket (on this instance or another) join a room, as its `room:join` would. */
    async joinRoom (socketId: string, roomId: string): Promise<void> {
      const socket = await liveSocket(socketId)
      await chat.join(channel(roomId), { socketId, user: { id: socket.userId, username: socket.username, displayName: socket.displayName } })
    },

    async leaveRoom (socketId: string, roomId: string): Promise<void> {
      const socket = await liveSocket(socketId)
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

    // ---- messages ---------------------------------------------------------------------------

    /**
     * Stores a message from `userId` (null: a system message) and sends it to the room as
     * seed 004's `message`. Content rules as for clients (trimmed, 1..CHAT_MAX_LENGTH); no rate limit.
     */
    async sendMessage (roomId: string, userId: string | null, content: string, type: MessageType = 'text', metadata?: Record<string, unknown>): Promise<Message> {
      if (!MESSAGE_TYPES.includes(type)) throw invalid(`type must be one of ${MESSAGE_TYPES.join(', ')}`)
      if (typeof content !== 'string') throw invalid('content must be a string')
      if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) throw invalid('metadata must be an object')
      if (!isUuid(roomId)) throw roomNotFound()
      const sender = userId ? await chatUserOf(userId) : null
      const { message } = await chat.send({ room: channel(roomId), sender, content, type, metadata: metadata ?? null, force: true })
      return toMessage(message)
    },

    /** The `limit` messages before the newest `offset` ones, oldest first (as a chat shows them). */
    async getRoomMessages (roomId: string, limit = 50, offset = 0): Promise<Message[]> {
      if (!Number.isInteger(limit) || limit < 1) throw invalid('limit must be a positive integer')
      if (!Number.isInteger(offset) || offset < 0) throw invalid('offset must be a non-negative integer')
      const page = await chat.history({ kind: 'channel', id: roomId }, { limit: Math.min(limit, MAX_PAGE), offset })
      return page.reverse().map(toMessage)
    },

    // ---- broadcasting (through the adapter: every instance) ----------------------------------

    async broadcastToRoom (roomId: string, event: string, data: unknown, options: BroadcastOptions = {}): Promise<void> {
      checkEvent(event)
      await rooms.stored(roomId)
      await chat.publish([scopeOf(channel(roomId))], event, data, options.except ?? [])
    },

    /** To every socket of these users, wherever they are connected. */
    async broadcastToUsers (userIds: string[], event: string, data: unknown): Promise<void> {
      checkEvent(event)
      const rooms = [...new Set(userIds)].filter((id) => typeof id === 'string' && id !== '').map(userRoom)
      // No rooms would mean everyone.
      if (rooms.length === 0) return
      await chat.publish(rooms, event, data)
    },

    async broadcastToAll (event: string, data: unknown, options: BroadcastOptions = {}): Promise<void> {
      checkEvent(event)
      await chat.publish([], event, data, options.except ?? [])
    },

    async emitToSocket (socketId: string, event: string, data: unknown): Promise<void> {
      checkEvent(event)
      await liveSocket(socketId)
      await chat.publish([socketId], event, data)
    },

    // ---- statistics ---------------------------------------------------------------------------

    async getStats (): Promise<ConnectionStats> {
      const [sockets, totalConnections, totals] = await Promise.all([registry.all(), registry.totalConnections(), rooms.totals()])
      return {
        totalConnections,
        activeConnections: sockets.length,
        onlineUsers: new Set(sockets.map((s) => s.userId)).size,
        totalRooms: totals.rooms,
        totalMessages: totals.messages
      }
    },

    async getRoomStats (roomId: string): Promise<RoomStats | null> {
      const room = await chat.getRoom(roomId, 'channel')
      if (!room) return null
      const [info, messageCount, joined] = await Promise.all([
        chat.roomInfo(channel(roomId)), chat.countMessages(roomId), rooms.joinedAt(roomId)
      ])
      return {
        roomId,
        name: room.name,
        memberCount: info.onlineCount,
        socketCount: info.socketCount,
        messageCount,
        createdAt: room.createdAt,
        lastActivity: new Date(Math.max(room.lastActivityAt.getTime(), joined))
      }
    },

    // ---- maintenance --------------------------------------------------------------------------

    /** Disconnects every socket of the user on every instance; resolves to how many there were. */
    async disconnectUser (userId: string, reason = 'disconnected by server'): Promise<number> {
      const sockets = await userSockets(userId)
      if (sockets.length === 0) return 0
      await registry.markKicked(sockets.map((s) => s.socketId), reason)
      await disconnect([userRoom(userId)])
      return sockets.length
    },

    /** Disconnects sockets with no client event for `inactiveMinutes`, on every instance; resolves to how many. */
    async cleanup (inactiveMinutes = 30): Promise<number> {
      if (typeof inactiveMinutes !== 'number' || !Number.isFinite(inactiveMinutes) || inactiveMinutes < 0) {
        throw invalid('inactiveMinutes must be a non-negative number')
      }
      const cutoff = now() - inactiveMinutes * 60_000
      const idle = (await registry.all()).filter((s) => s.lastActivity < cutoff).map((s) => s.socketId)
      if (idle.length === 0) return 0
      await registry.markKicked(idle, 'inactive')
      await disconnect(idle)
      return idle.length
    },

    /**
     * Stops accepting connections on `/` and disconnects this instance's sockets, waiting for
     * their cleanup (presence, rooms, `disconnect` events). Closing the app does this too.
     */
    async shutdown (): Promise<void> {
      accepting = false
      const local = new Set(nsp.sockets.keys())
      const gone = new Promise<void>((resolve) => {
        if (local.size === 0) return resolve()
        const timer = setTimeout(done, SHUTDOWN_WAIT_MS)
        const off = chat.on('disconnect', ({ socketId }) => {
          local.delete(socketId)
          if (local.size === 0) done()
        })
        function done () { clearTimeout(timer); off(); resolve() }
      })
      nsp.local.disconnectSockets(true)
      await gone
      await Promise.allSettled([...inflight])
    },

    /** Detaches from the chat core and Socket.IO (the plugin's onClose). */
    async close (): Promise<void> {
      for (const off of unsubscribe) off()
      offSweep()
      nsp.off('connection', onConnection)
      await Promise.allSettled([...inflight])
    }
  }

  return Object.assign(emitter, api)
}

export type RealtimeService = ReturnType<typeof createRealtimeService>
