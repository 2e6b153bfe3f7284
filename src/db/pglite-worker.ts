/**
 * The embedded database's thread: PGlite (PostgreSQL compiled to WASM) runs here, in a worker of
 * its own, so that neither its queries nor its heap (the garbage collector's work over it) are
 * the sockets' thread's. The main thread talks to it through `pglite-client.ts`; the messages are
 * that file's `Request` and `Reply`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import type { Reply, Request, WorkerOptions } from './pglite-client.js'

const port = parentPort!
const { dataDir, snapshot } = workerData as WorkerOptions

const keepText = (value: string) => value

/** The parsers a query asked for: a type given means its text is kept as is (what drizzle-orm asks). */
function parsersOf (rawTypes: number[] | undefined): Record<number, (value: string) => unknown> | undefined {
  if (rawTypes === undefined || rawTypes.length === 0) return undefined
  return Object.fromEntries(rawTypes.map(type => [type, keepText]))
}

/** What of an error crosses to the main thread: its message and every field PostgreSQL set (code, detail, constraint…). */
function plain (err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) }
  const out: Record<string, unknown> = { message: err.message, name: err.name }
  for (const [key, value] of Object.entries(err)) {
    if (value === undefined || typeof value === 'function' || (typeof value === 'object' && value !== null)) continue
    out[key] = value
  }
  return out
}

const ROLLBACK = Symbol('rollback')

async function main (): Promise<void> {
  const db = dataDir === 'memory' ? new PGlite(snapshot ? { loadDataDir: snapshot } : {}) : new PGlite(dataDir)
  await db.waitReady
  const open = new Map<number, { tx: Transaction, end: (commit: boolean) => void, done: Promise<void> }>()
  let nextTx = 1

  const target = (tx: number | undefined): Pick<Transaction, 'query' | 'exec'> => {
    if (tx === undefined) return db
    const entry = open.get(tx)
    if (!entry) throw new Error(`transaction ${tx} is not open`)
    return entry.tx
  }

  async function answer (request: Request): Promise<unknown> {
    switch (request.op) {
      case 'query': {
        const parsers = parsersOf(request.rawTypes)
        return await target(request.tx).query(request.sql, request.params, { rowMode: request.rowMode, ...(parsers ? { parsers } : {}) })
      }
      case 'exec':
        return await target(request.tx).exec(request.sql)
      case 'begin': {
        const id = nextTx++
        // Answered once the transaction has begun; it commits (or rolls back) on 'end'.
        return await new Promise<number>((resolve, reject) => {
          let begun = false
          const done = db.transaction(async (tx) => {
            let end: (commit: boolean) => void = () => {}
            const ended = new Promise<boolean>((resolve) => { end = resolve })
            open.set(id, { tx, end, done })
            begun = true
            resolve(id)
            if (!(await ended)) throw ROLLBACK
          }).then(() => {}, (err: unknown) => {
            if (!begun) reject(err)
            else if (err !== ROLLBACK) throw err
          })
        })
      }
      case 'end': {
        const entry = open.get(request.tx)
        if (!entry) throw new Error(`transaction ${request.tx} is not open`)
        open.delete(request.tx)
        entry.end(request.commit)
        // Answered once PGlite has committed or rolled back (a failed COMMIT is the answer).
        await entry.done
        return null
      }
      case 'close':
        await db.close()
        return null
    }
  }

  port.on('message', (request: Request) => {
    answer(request).then(
      (result) => { port.postMessage({ id: request.id, ok: true, result } satisfies Reply) },
      (err: unknown) => { port.postMessage({ id: request.id, ok: false, error: plain(err) } satisfies Reply) }
    )
  })
  port.postMessage({ id: 0, ok: true, result: 'ready' } satisfies Reply)
}

main().catch((err: unknown) => { port.postMessage({ id: 0, ok: false, error: plain(err) } satisfies Reply) })
