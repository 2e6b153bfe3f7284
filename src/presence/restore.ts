/**
 * What this instance knows of its own sockets' presence, kept beside the store so that it can be
 * written back when the store lost it (a Redis restarted empty or failed over): the lifecycle's
 * `onRestore` replays it. Remote sockets are never here; each instance writes back its own.
 */

interface LocalSocket {
  userId: string
  scopes: Set<string>
}

/** The store writes a write-back needs; each is idempotent (a socket already there stays as it is). */
export interface PresenceWriter {
  connect (socketId: string, userId: string): Promise<unknown>
  join (socketId: string, scope: string): Promise<unknown>
  disconnect (socketId: string): Promise<unknown>
}

export function createLocalPresence () {
  const sockets = new Map<string, LocalSocket>()

  return {
    connected (socketId: string, userId: string): void {
      if (!sockets.has(socketId)) sockets.set(socketId, { userId, scopes: new Set() })
    },
    joined (socketId: string, scope: string): void {
      sockets.get(socketId)?.scopes.add(scope)
    },
    left (socketId: string, scope: string): void {
      sockets.get(socketId)?.scopes.delete(scope)
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
        await writer.connect(socketId, entry.userId)
        for (const scope of [...entry.scopes]) await writer.join(socketId, scope)
        if (sockets.get(socketId) !== entry) await writer.disconnect(socketId)
        else written++
      }
      return written
    }
  }
}

export type LocalPresence = ReturnType<typeof createLocalPresence>
