/**
 * What this instance knows of its own sockets' presence, kept beside the store so that it can be
 * written back when the store lost it (a Redis restarted empty or failed over): the lifecycle's
 * `onRestore` replays it. Remote sockets are never here; each instance writes back its own.
 */

/**
 * A socket in no scope is its user id alone; one that joined a scope gets its set of scopes.
 * Most sockets stay in none (idle on `/`), and a Set is ~150 bytes even empty.
 */
interface LocalSocket {
  userId: string
  scopes: Set<string>
}
type Entry = string | LocalSocket

const userOf = (entry: Entry): string => typeof entry === 'string' ? entry : entry.userId
const scopesOf = (entry: Entry): string[] => typeof entry === 'string' ? [] : [...entry.scopes]

/** The store writes a write-back needs; each is idempotent (a socket already there stays as it is). */
export interface PresenceWriter {
  connect (socketId: string, userId: string): Promise<unknown>
  join (socketId: string, scope: string): Promise<unknown>
  disconnect (socketId: string): Promise<unknown>
}

export function createLocalPresence () {
  const sockets = new Map<string, Entry>()

  return {
    connected (socketId: string, userId: string): void {
      if (!sockets.has(socketId)) sockets.set(socketId, userId)
    },
    joined (socketId: string, scope: string): void {
      const entry = sockets.get(socketId)
      if (entry === undefined) return
      if (typeof entry === 'string') sockets.set(socketId, { userId: entry, scopes: new Set([scope]) })
      else entry.scopes.add(scope)
    },
    left (socketId: string, scope: string): void {
      const entry = sockets.get(socketId)
      if (entry === undefined || typeof entry === 'string') return
      entry.scopes.delete(scope)
      if (entry.scopes.size === 0) sockets.set(socketId, entry.userId)
    },
    gone (socketId: string): void {
      sockets.delete(socketId)
    },
    clear (): void {
      sockets.clear()
    },
    get size (): number { return sockets.size },

    /**
     * Writes every local socket back (connect, then each scope it joined). A socket that went
     * away meanwhile is removed again, so that the write-back leaves no ghost.
     */
    async restore (writer: PresenceWriter): Promise<number> {
      let written = 0
      for (const [socketId, entry] of [...sockets]) {
        await writer.connect(socketId, userOf(entry))
        for (const scope of scopesOf(entry)) await writer.join(socketId, scope)
        // Gone meanwhile (a later connect with the same id is another entry; a join or leave
        // that changed the entry keeps the socket, and its own write reached the store).
        if (!sockets.has(socketId) || userOf(sockets.get(socketId)!) !== userOf(entry)) await writer.disconnect(socketId)
        else written++
      }
      return written
    }
  }
}

export type LocalPresence = ReturnType<typeof createLocalPresence>
