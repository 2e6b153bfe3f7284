import type { InstanceLifecycle } from '../instance/lifecycle.js'
import { defaultErrorSink, notify, subscribe, type ErrorSink } from '../services/timer.js'
import { presenceKeys as keys } from '../store/keys.js'
import type { ScriptReply, Store } from '../store/types.js'
import { connectScript } from './scripts/connect.js'
import { disconnectScript } from './scripts/disconnect.js'
import { joinScript } from './scripts/join.js'
import { leaveScript } from './scripts/leave.js'
import { membersScript } from './scripts/members.js'
import { removeInstanceScript } from './scripts/remove-instance.js'
import { OTHER_USER, PATTERN_ARGS, UNKNOWN_SOCKET } from './scripts/shared.js'
import { createLocalPresence } from './restore.js'

export interface PresenceOptions {
  store: Store
  /** Gives this instance's id and the dead instances whose entries presence removes. */
  lifecycle: Pick<InstanceLifecycle, 'instanceId' | 'onInstanceDead' | 'onRestore'>
  onError?: ErrorSink
}

/** One user's presence ending in one scope (by leave, disconnect or a dead instance's removal). */
export interface ScopeLeft {
  scope: string
  userId: string
  /** That was the user's last socket in the scope: they left it. */
  last: boolean
  /** Distinct users in the scope now. */
  count: number
}

export interface SweepReport {
  instanceId: string
  left: ScopeLeft[]
  /** Users who have no socket anywhere any more. */
  offline: string[]
}

export interface ScopeMember { userId: string, sockets: number }

function toScopeLeft (reply: ScriptReply): ScopeLeft {
  const [scope, userId, last, count] = reply as [string, string, number, number]
  return { scope, userId, last: last === 1, count }
}

/**
 * Who is connected and where, shared by every instance: a user is in a scope (a chat group,
 * a code room, a public room) while at least one of their sockets is. Every change is one
 * script, so "first socket" and "last socket" are exact however many instances race.
 */
export function createPresence (options: PresenceOptions) {
  const { store, lifecycle } = options
  const { instanceId } = lifecycle
  const onError = options.onError ?? defaultErrorSink('presence')
  const listeners = new Set<(report: SweepReport) => void>()

  async function removeEntriesOf (id: string): Promise<SweepReport> {
    const reply = await store.run(removeInstanceScript, [keys.instanceSockets(id)], PATTERN_ARGS)
    const [left, offline] = reply as [ScriptReply[], string[]]
    return { instanceId: id, left: left.map(toScopeLeft), offline }
  }

  // The lifecycle calls this on exactly one survivor per dead instance, so each report is made once.
  const offDead = lifecycle.onInstanceDead(async (deadInstanceId) => {
    notify(listeners, await removeEntriesOf(deadInstanceId), onError)
  })

  async function writeConnect (socketId: string, userId: string): Promise<{ firstSocket: boolean }> {
    const reply = await store.run(connectScript,
      [keys.socket(socketId), keys.userSockets(userId), keys.instanceSockets(instanceId), keys.online],
      [userId, instanceId, socketId])
    if (reply === OTHER_USER) throw new Error(`socket ${socketId} is already connected as another user`)
    return { firstSocket: reply === 1 }
  }

  async function writeJoin (socketId: string, scope: string): Promise<{ first: boolean, count: number }> {
    const reply = await store.run(joinScript,
      [keys.socket(socketId), keys.socketRooms(socketId), keys.roomUsers(scope)], [socketId, scope, ...PATTERN_ARGS])
    if (reply === UNKNOWN_SOCKET) throw new Error(`socket ${socketId} is not connected`)
    const [first, count] = reply as [number, number]
    return { first: first === 1, count }
  }

  async function writeDisconnect (socketId: string): Promise<ScriptReply[]> {
    return await store.run(disconnectScript, [], [socketId, ...PATTERN_ARGS]) as ScriptReply[]
  }

  async function writeLeave (socketId: string, scope: string): Promise<{ left: boolean, last: boolean, userId: string | null, count: number }> {
    const reply = await store.run(leaveScript,
      [keys.socket(socketId), keys.socketRooms(socketId), keys.roomUsers(scope)], [socketId, scope, ...PATTERN_ARGS])
    const [left, userId, last, count] = reply as [number, string, number, number]
    local.left(socketId, scope)
    return { left: left === 1, last: last === 1, userId: userId === '' ? null : userId, count }
  }

  // This instance's sockets, written back when the store lost them (src/presence/restore.ts).
  const local = createLocalPresence()
  const offRestore = lifecycle.onRestore(async () => {
    await local.restore({ connect: writeConnect, join: writeJoin, disconnect: writeDisconnect })
  })

  return {
    /** Registers a socket of a user; firstSocket: the user just came online. */
    async connect (socketId: string, userId: string): Promise<{ firstSocket: boolean }> {
      const result = await writeConnect(socketId, userId)
      local.connected(socketId, userId)
      return result
    },

    /** first: the user's first socket in the scope; count: distinct users in it now. */
    async join (socketId: string, scope: string): Promise<{ first: boolean, count: number }> {
      const result = await writeJoin(socketId, scope)
      local.joined(socketId, scope)
      return result
    },

    /** left: the socket was in the scope; last: it was the user's last socket there. */
    leave: writeLeave,

    /**
     * The same step for a scope whose room was deleted: reportingPresence (changes.ts) does not
     * report it, because the deletion wrote the room's departures in its own SQL transaction.
     */
    leaveDeleted: writeLeave,

    /** Leaves every scope and forgets the socket; lastSocket: the user went offline. */
    async disconnect (socketId: string): Promise<{ userId: string | null, lastSocket: boolean, left: ScopeLeft[] }> {
      local.gone(socketId)
      const reply = await writeDisconnect(socketId)
      if (reply.length === 0) return { userId: null, lastSocket: false, left: [] }
      const [userId, last, left] = reply as [string, number, ScriptReply[]]
      return { userId, lastSocket: last === 1, left: left.map(toScopeLeft) }
    },

    async members (scope: string): Promise<ScopeMember[]> {
      const flat = await store.run(membersScript, [keys.roomUsers(scope)], [scope, ...PATTERN_ARGS]) as Array<string | number>
      const members: ScopeMember[] = []
      for (let i = 0; i < flat.length; i += 2) members.push({ userId: String(flat[i]), sockets: Number(flat[i + 1]) })
      return members.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))
    },

    /** Distinct users in the scope. */
    async count (scope: string): Promise<number> {
      return await store.sCard(keys.roomUsers(scope))
    },

    async isOnline (userId: string): Promise<boolean> {
      return await store.sCard(keys.userSockets(userId)) > 0
    },

    async socketsOf (userId: string): Promise<string[]> {
      return await store.sMembers(keys.userSockets(userId))
    },

    async scopesOf (userId: string): Promise<string[]> {
      return await store.sMembers(keys.userRooms(userId))
    },

    /** Scopes one socket has joined (to check it may send there). */
    async scopesOfSocket (socketId: string): Promise<string[]> {
      return await store.sMembers(keys.socketRooms(socketId))
    },

    async userOf (socketId: string): Promise<string | null> {
      return await store.hGet(keys.socket(socketId), 'userId')
    },

    /** Users with at least one socket on any instance. */
    async onlineUsers (): Promise<string[]> {
      return await store.sMembers(keys.online)
    },

    /** Reports the scopes users left when a dead instance's entries were removed (on one survivor). */
    onSweep (listener: (report: SweepReport) => void): () => void {
      return subscribe(listeners, listener)
    },

    /** Graceful shutdown: drops this instance's sockets at once; the caller tells the rooms. */
    async removeInstance (): Promise<SweepReport> {
      local.clear()
      return await removeEntriesOf(instanceId)
    },

    async close (): Promise<void> {
      offDead()
      offRestore()
    }
  }
}

export type Presence = ReturnType<typeof createPresence>
