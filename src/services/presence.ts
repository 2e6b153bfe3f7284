import type { ScriptReply, Store } from '../store/types.js'
import { instanceKeys, type InstanceRegistry } from './instances.js'
import {
  connectScript, disconnectScript, joinScript, leaveScript, membersScript, OTHER_USER,
  presenceKeys as keys, removeInstanceScript, UNKNOWN_SOCKET
} from './presence-scripts.js'
import { defaultErrorSink, notify, repeat, subscribe, type ErrorSink } from './timer.js'

export { presenceKeys } from './presence-scripts.js'

export interface PresenceOptions {
  store: Store
  instanceId: string
  registry: Pick<InstanceRegistry, 'deadInstances' | 'ttlMs'>
  /** How often dead instances are looked for; default the registry's ttl / 3. */
  sweepIntervalMs?: number
  onError?: ErrorSink
}

/** One user's presence ending in one scope (by leave, disconnect or sweep). */
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
  const { store, instanceId, registry } = options
  const onError = options.onError ?? defaultErrorSink('presence')
  const sweepIntervalMs = options.sweepIntervalMs ?? Math.max(1, Math.floor(registry.ttlMs / 3))
  const listeners = new Set<(report: SweepReport) => void>()
  const sweeper = repeat(sweepIntervalMs, async () => await sweep(), onError)

  async function removeEntriesOf (id: string, own: boolean): Promise<SweepReport | null> {
    const reply = await store.run(removeInstanceScript,
      [keys.instanceSockets(id), instanceKeys.alive(id), instanceKeys.all], [id, own ? '1' : '0'])
    const [removed, left, offline] = reply as [number, ScriptReply[], string[]]
    if (removed !== 1) return null
    return { instanceId: id, left: left.map(toScopeLeft), offline }
  }

  /** Removes what dead instances left; only the sweeper whose script removed it reports it. */
  async function sweep (): Promise<SweepReport[]> {
    const reports: SweepReport[] = []
    for (const id of await registry.deadInstances()) {
      // This instance is running, whatever its key says; its next heartbeat restores it.
      if (id === instanceId) continue
      const report = await removeEntriesOf(id, false)
      if (report === null) continue
      reports.push(report)
      notify(listeners, report, onError)
    }
    return reports
  }

  return {
    /** Registers a socket of a user; firstSocket: the user just came online. */
    async connect (socketId: string, userId: string): Promise<{ firstSocket: boolean }> {
      const reply = await store.run(connectScript,
        [keys.socket(socketId), keys.userSockets(userId), keys.instanceSockets(instanceId), keys.online],
        [userId, instanceId, socketId])
      if (reply === OTHER_USER) throw new Error(`socket ${socketId} is already connected as another user`)
      return { firstSocket: reply === 1 }
    },

    /** first: the user's first socket in the scope; count: distinct users in it now. */
    async join (socketId: string, scope: string): Promise<{ first: boolean, count: number }> {
      const reply = await store.run(joinScript,
        [keys.socket(socketId), keys.socketRooms(socketId), keys.roomUsers(scope)], [socketId, scope])
      if (reply === UNKNOWN_SOCKET) throw new Error(`socket ${socketId} is not connected`)
      const [first, count] = reply as [number, number]
      return { first: first === 1, count }
    },

    /** left: the socket was in the scope; last: it was the user's last socket there. */
    async leave (socketId: string, scope: string): Promise<{ left: boolean, last: boolean, userId: string | null, count: number }> {
      const reply = await store.run(leaveScript,
        [keys.socket(socketId), keys.socketRooms(socketId), keys.roomUsers(scope)], [socketId, scope])
      const [left, userId, last, count] = reply as [number, string, number, number]
      return { left: left === 1, last: last === 1, userId: userId === '' ? null : userId, count }
    },

    /** Leaves every scope and forgets the socket; lastSocket: the user went offline. */
    async disconnect (socketId: string): Promise<{ userId: string | null, lastSocket: boolean, left: ScopeLeft[] }> {
      const reply = await store.run(disconnectScript, [], [socketId]) as ScriptReply[]
      if (reply.length === 0) return { userId: null, lastSocket: false, left: [] }
      const [userId, last, left] = reply as [string, number, ScriptReply[]]
      return { userId, lastSocket: last === 1, left: left.map(toScopeLeft) }
    },

    async members (scope: string): Promise<ScopeMember[]> {
      const flat = await store.run(membersScript, [keys.roomUsers(scope)], [scope]) as Array<string | number>
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

    sweep,

    onSweep (listener: (report: SweepReport) => void): () => void {
      return subscribe(listeners, listener)
    },

    /** Graceful shutdown: drops this instance's sockets at once; the caller tells the rooms. */
    async removeInstance (): Promise<SweepReport> {
      return await removeEntriesOf(instanceId, true) ?? { instanceId, left: [], offline: [] }
    },

    start (): void {
      sweeper.start()
    },

    async close (): Promise<void> {
      sweeper.stop()
    }
  }
}

export type Presence = ReturnType<typeof createPresence>
