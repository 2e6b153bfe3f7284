import { writeHeapSnapshot } from 'node:v8'
import { notifyParent, serveRequests, type Handlers } from '../lib/ipc.js'

/**
 * What every server under test answers over the fork channel: `memory` (full GC, then
 * process.memoryUsage(); the process runs with --expose-gc) and `stop` (close, then exit so
 * that a --cpu-prof profile is written). `connections` (open connections now). Announces `listening {port}` once up.
 */
export async function runServer (
  start: () => Promise<{ port: number, close: () => Promise<void>, connections: () => number }>, extra: Handlers = {}
): Promise<void> {
  const { port, close, connections } = await start()
  serveRequests({
    ...extra,
    /** Connections the server holds now (the disconnect storm waits for 0). */
    connections,
    memory: async () => {
      const gc = (globalThis as { gc?: () => void }).gc
      if (!gc) throw new Error('run with --expose-gc')
      // Twice, with a turn of the event loop between: objects freed by finalizers go too.
      gc()
      await new Promise((resolve) => setImmediate(resolve))
      gc()
      const { heapUsed, rss, external, arrayBuffers } = process.memoryUsage()
      return { heapUsed, rss, external, arrayBuffers }
    },
    /** A heap snapshot (after a full GC) into `path`: to see what a connection holds. */
    heapSnapshot: (path: string) => {
      (globalThis as { gc?: () => void }).gc?.()
      return writeHeapSnapshot(path)
    },
    stop: async () => {
      await Promise.race([close(), new Promise((resolve) => setTimeout(resolve, 5_000))])
      setImmediate(() => process.exit(0))
      return true
    }
  })
  notifyParent('listening', { port })
}
