import { EventEmitter } from 'node:events'
import type { Database } from '../db/index.js'
import { createUserService } from '../auth/users.js'
import type { Chat } from '../chat/service.js'
import type { ChatUser } from '../chat/types.js'
import type { Presence } from '../presence/service.js'
import type { InstanceLifecycle } from '../instance/lifecycle.js'
import type { Store } from '../store/types.js'
import { createConnectionRegistry, type LiveSocket } from './registry.js'
import { createRoomViews } from './rooms.js'
import type { ServiceApiSocketPort } from './socket-port.js'
import { toMessage, toSocketUser, type ServiceApiContext } from './context.js'
import { connectionMethods } from './connections.js'
import { channelMethods } from './channels.js'
import { broadcastMethods } from './broadcasts.js'
import { statsMethods } from './stats.js'
import type { RealtimeEventMap, SocketUser } from './types.js'

export interface RealtimeServiceOptions {
  /** The socket layer of `/` (socket-port.ts). */
  sockets: ServiceApiSocketPort
  chat: Chat
  presence: Presence
  store: Store
  /** Liveness of instances, and the dead ones (their registry entries are purged). */
  instances: Pick<InstanceLifecycle, 'isAlive' | 'onInstanceDead'>
  database: Database
  instanceId: string
  /** Work started by events that shutdown must wait for (the presence hub's `track`). */
  track?: <T>(work: Promise<T>) => Promise<T>
  now?: () => number
  /** CHANNEL_METADATA_MAX_BYTES: the largest room metadata `createRoom` stores (default 4096). */
  metadataMaxBytes?: number
  /** A socket's activity is written once per window this long (default 5 s). */
  activityResolutionMs?: number
  onError?: (err: unknown) => void
}

const SHUTDOWN_WAIT_MS = 5_000

/**
 * Seed 004's WebSocketService over the chat service, correct across instances: who is connected
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
  const { sockets, chat, presence, store, database, instanceId } = options
  const now = options.now ?? Date.now
  const onError = options.onError ?? (() => {})
  const registry = createConnectionRegistry({
    store,
    instanceId,
    instances: options.instances,
    now,
    activityResolutionMs: options.activityResolutionMs ?? 5_000,
    isLocal: sockets.isLocal
  })
  const rooms = createRoomViews({ chat, presence, store, db: database.db, now })
  const ctx: ServiceApiContext = { chat, presence, registry, rooms, users: createUserService({ db: database.db }), sockets, now, metadataMaxBytes: options.metadataMaxBytes ?? 4096 }
  const emitter = new EventEmitter<RealtimeEventMap>()
  const inflight = new Set<Promise<unknown>>()

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

  // ---- the chat's lifecycle events, as seed 004's ------------------------------------------

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
    }),
    // Activity: any client event on `/` (throttled).
    sockets.onClientEvent((socketId) => {
      const written = registry.touch(socketId)
      if (written) run(written)
    }),
    options.instances.onInstanceDead(async (deadInstanceId) => { await registry.purgeInstance(deadInstanceId) })
  ]

  const api = {
    ...connectionMethods(ctx),
    ...channelMethods(ctx),
    ...broadcastMethods(ctx),
    ...statsMethods(ctx),

    /**
     * Stops accepting connections on `/` and disconnects this instance's sockets, waiting for
     * their cleanup (presence, rooms, `disconnect` events). Closing the app does this too.
     */
    async shutdown (): Promise<void> {
      sockets.refuseConnections()
      const local = new Set(sockets.localSocketIds())
      const gone = new Promise<void>((resolve) => {
        if (local.size === 0) return resolve()
        const timer = setTimeout(done, SHUTDOWN_WAIT_MS)
        const off = chat.on('disconnect', ({ socketId }) => {
          local.delete(socketId)
          if (local.size === 0) done()
        })
        function done () { clearTimeout(timer); off(); resolve() }
      })
      sockets.disconnectLocal()
      await gone
      await Promise.allSettled([...inflight])
    },

    /** Detaches from the chat service and Socket.IO (the plugin's onClose). */
    async close (): Promise<void> {
      for (const off of unsubscribe) off()
      await Promise.allSettled([...inflight])
    }
  }

  return Object.assign(emitter, api)
}

export type RealtimeService = ReturnType<typeof createRealtimeService>
