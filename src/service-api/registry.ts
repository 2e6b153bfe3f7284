import type { Store } from '../store/types.js'
import type { InstanceLifecycle } from '../instance/lifecycle.js'
import type { ChatUser } from '../chat/types.js'
import { realtimeKeys } from '../store/keys.js'

// The service API's key names, exported here too for the tests that read them.
export { realtimeKeys }

const KICK_TTL_MS = 60_000

interface SocketEntry {
  userId: string
  username: string
  displayName: string
  instanceId: string
  connectedAt: number
}

export interface LiveSocket extends SocketEntry {
  socketId: string
  lastActivity: number
}

/**
 * An entry as stored: a JSON array `[connectedAt, instanceId, userId, username, displayName]`,
 * not an object (the keys repeated in every one of a large hash were 55 of its ~140 characters).
 */
function encodeEntry (entry: SocketEntry): string {
  return JSON.stringify([entry.connectedAt, entry.instanceId, entry.userId, entry.username, entry.displayName])
}

function parseEntry (raw: string | null): SocketEntry | null {
  if (raw === null) return null
  try {
    const parsed = JSON.parse(raw) as unknown[] | Partial<SocketEntry>
    // An object is the layout before the array (an instance of an earlier version, same Redis).
    const [connectedAt, instanceId, userId, username, displayName] = Array.isArray(parsed)
      ? parsed
      : [parsed.connectedAt, parsed.instanceId, parsed.userId, parsed.username, parsed.displayName]
    if (typeof userId !== 'string' || typeof instanceId !== 'string') return null
    return {
      userId,
      username: typeof username === 'string' ? username : userId,
      displayName: typeof displayName === 'string' ? displayName : userId,
      instanceId,
      connectedAt: Number(connectedAt) || 0
    }
  } catch {
    return null
  }
}

export interface ConnectionRegistryOptions {
  store: Store
  instanceId: string
  instances: Pick<InstanceLifecycle, 'isAlive'>
  now: () => number
  /** Activity is written once per socket per window this long (it is compared in minutes). */
  activityResolutionMs: number
  /**
   * Whether a socket is connected to this instance now: an own entry whose socket is gone
   * (its disconnect cleanup failed, say during a store outage) stops counting and is dropped.
   */
  isLocal?: (socketId: string) => boolean
}

/**
 * The sockets of `/` across the cluster, with when they connected and were last active. Presence
 * knows every namespace's sockets; this knows which are chat connections and their names. An
 * entry counts while its instance is alive: a crashed instance's entries stop counting at once
 * and are deleted by whoever reads them next (or when presence sweeps that instance).
 */
export function createConnectionRegistry (options: ConnectionRegistryOptions) {
  const { store, instanceId, instances, now, activityResolutionMs } = options
  const isLocal = options.isLocal ?? (() => true)
  // Activity is written once per socket per window of `activityResolutionMs`: the sockets
  // written in the current window, dropped as a whole when the next one starts, so an idle
  // socket keeps no entry here (a Map of last writes held one per connection).
  let window = -1
  let written = new Set<string>()
  /** Marks the socket written in the window of `at`; whether it already was. */
  function writtenIn (socketId: string, at: number): boolean {
    const current = Math.floor(at / activityResolutionMs)
    if (current !== window) {
      window = current
      written = new Set()
    }
    if (written.has(socketId)) return true
    written.add(socketId)
    return false
  }

  /** Whether an entry's socket is connected: on this instance, asked of it; elsewhere, its instance is alive (asked once per call). */
  function liveness () {
    const known = new Map<string, Promise<boolean>>()
    return async (entry: SocketEntry, socketId: string) => {
      if (entry.instanceId === instanceId) return isLocal(socketId)
      let alive = known.get(entry.instanceId)
      if (!alive) known.set(entry.instanceId, (alive = instances.isAlive(entry.instanceId)))
      return await alive
    }
  }

  async function forget (socketIds: string[]): Promise<void> {
    if (socketIds.length === 0) return
    await Promise.all([store.hDel(realtimeKeys.sockets, ...socketIds), store.hDel(realtimeKeys.activity, ...socketIds)])
  }

  return {
    /**
     * A socket of `user` connected here. The writes are issued before this returns, so a
     * `remove` issued later (on the same store connection) always runs after them.
     */
    add (socketId: string, user: ChatUser): { entry: LiveSocket, written: Promise<unknown> } {
      const at = now()
      // Not marked written: an idle server would keep every socket connected in the last window
      // in the set until the next event (its first event then writes the activity once).
      const entry: SocketEntry = { userId: user.id, username: user.username, displayName: user.displayName, instanceId, connectedAt: at }
      // No activity entry yet: a socket's last activity is its connect time until its first event.
      const writes = Promise.all([
        store.hSet(realtimeKeys.sockets, { [socketId]: encodeEntry(entry) }),
        store.incrBy(realtimeKeys.connections, 1)
      ])
      return { entry: { ...entry, socketId, lastActivity: at }, written: writes }
    },

    /** A client event: records activity unless it was recorded in this window (of the resolution) already. */
    touch (socketId: string): Promise<void> | undefined {
      const at = now()
      if (writtenIn(socketId, at)) return undefined
      return store.hSet(realtimeKeys.activity, { [socketId]: String(at) })
    },

    /** The socket went: its entry (read before it is deleted), or null when there was none. */
    async remove (socketId: string): Promise<LiveSocket | null> {
      written.delete(socketId)
      // Reads and deletes issued together (they run in this order): a socket recovered with the
      // same id, registered right after, is never deleted by this.
      const [raw, activity] = await Promise.all([
        store.hGet(realtimeKeys.sockets, socketId), store.hGet(realtimeKeys.activity, socketId), forget([socketId])
      ])
      const entry = parseEntry(raw)
      return entry ? { ...entry, socketId, lastActivity: Number(activity) || entry.connectedAt } : null
    },

    async get (socketId: string): Promise<LiveSocket | null> {
      const [raw, activity] = await Promise.all([store.hGet(realtimeKeys.sockets, socketId), store.hGet(realtimeKeys.activity, socketId)])
      const entry = parseEntry(raw)
      if (!entry || !(await liveness()(entry, socketId))) return null
      return { ...entry, socketId, lastActivity: Number(activity) || entry.connectedAt }
    },

    /** Live sockets among these ids (a user's sockets from presence, which spans every namespace). */
    async pick (socketIds: string[]): Promise<LiveSocket[]> {
      const alive = liveness()
      const found = await Promise.all(socketIds.map(async (socketId) => {
        const [raw, activity] = await Promise.all([store.hGet(realtimeKeys.sockets, socketId), store.hGet(realtimeKeys.activity, socketId)])
        const entry = parseEntry(raw)
        if (!entry || !(await alive(entry, socketId))) return null
        return { ...entry, socketId, lastActivity: Number(activity) || entry.connectedAt }
      }))
      return found.filter((s) => s !== null)
    },

    /** Every live socket; entries of dead instances (and damaged ones) are deleted on the way. */
    async all (): Promise<LiveSocket[]> {
      const [raw, activity] = await Promise.all([store.hGetAll(realtimeKeys.sockets), store.hGetAll(realtimeKeys.activity)])
      const alive = liveness()
      const live: LiveSocket[] = []
      const dead: string[] = []
      for (const [socketId, value] of Object.entries(raw)) {
        const entry = parseEntry(value)
        if (entry && await alive(entry, socketId)) {
          live.push({ ...entry, socketId, lastActivity: Number(activity[socketId]) || entry.connectedAt })
        } else {
          dead.push(socketId)
        }
      }
      // Activity recorded for a socket that had already gone (an event racing its disconnect).
      for (const socketId of Object.keys(activity)) if (!(socketId in raw)) dead.push(socketId)
      await forget(dead)
      return live
    },

    /** Drops what a dead instance left (the instance lifecycle found it dead). */
    async purgeInstance (deadInstanceId: string): Promise<void> {
      const raw = await store.hGetAll(realtimeKeys.sockets)
      await forget(Object.entries(raw).filter(([, v]) => parseEntry(v)?.instanceId === deadInstanceId).map(([id]) => id))
    },

    async totalConnections (): Promise<number> {
      return Number(await store.get(realtimeKeys.connections)) || 0
    },

    /** Why these sockets are being disconnected, for the `disconnect` event wherever they are. */
    async markKicked (socketIds: string[], reason: string): Promise<void> {
      await Promise.all(socketIds.map((id) => store.set(realtimeKeys.kick(id), reason, { ttlMs: KICK_TTL_MS })))
    },

    async takeKick (socketId: string): Promise<string | null> {
      const reason = await store.get(realtimeKeys.kick(socketId))
      if (reason !== null) await store.del(realtimeKeys.kick(socketId))
      return reason
    }
  }
}

export type ConnectionRegistry = ReturnType<typeof createConnectionRegistry>
