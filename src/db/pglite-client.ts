/**
 * PGlite in a worker thread (`pglite-worker.ts`), seen from the main thread as the part of a
 * PGlite that drizzle-orm's pglite driver uses: `query`, `exec`, `transaction` (whose `tx` has
 * `query`, `exec` and `rollback`) and `close`. Measured (docs/benchmarks.md, eighth pass): with
 * PGlite loaded in the sockets' thread, code-room messages that never query it cost a quarter
 * more CPU (its heap is the garbage collector's work there too).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { packageRoot } from '../paths.js'

export interface WorkerOptions { dataDir: string, snapshot?: Blob }

type RowMode = 'array' | 'object'
export type Request = { id: number } & (
  | { op: 'query', sql: string, params?: unknown[], rowMode?: RowMode, rawTypes?: number[], tx?: number }
  | { op: 'exec', sql: string, tx?: number }
  | { op: 'begin' }
  | { op: 'end', tx: number, commit: boolean }
  | { op: 'close' }
)
type Op = Request extends infer R ? R extends { id: number } ? Omit<R, 'id'> : never : never
export type Reply = { id: number, ok: true, result: unknown } | { id: number, ok: false, error: Record<string, unknown> }

interface QueryOptions { rowMode?: RowMode, parsers?: Record<number, unknown> }
export interface QueryResult { rows: unknown[], fields: Array<{ name: string, dataTypeID: number }>, affectedRows?: number }

interface Queries {
  query (sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult>
  exec (sql: string): Promise<QueryResult[]>
}
export interface WorkerTransaction extends Queries { rollback (): Promise<void> }
export interface PgliteClient extends Queries {
  transaction<T> (fn: (tx: WorkerTransaction) => Promise<T>): Promise<T>
  close (): Promise<void>
}

/** The compiled worker: next to this file in dist/, and dist's copy when this runs from src/ (the tests). */
function workerFile (): string {
  const beside = fileURLToPath(new URL('./pglite-worker.js', import.meta.url))
  return existsSync(beside) ? beside : join(packageRoot, 'dist', 'src', 'db', 'pglite-worker.js')
}

/** An error of the worker's as the caller would have had it in one thread: a message and PostgreSQL's fields. */
function rebuild (fields: Record<string, unknown>): Error {
  const err = new Error(String(fields.message))
  return Object.assign(err, fields)
}

/** Starts PGlite on `dataDir` ('memory': in memory, from `snapshot` when given) in a worker; resolves once it is ready. */
export async function startPgliteWorker (options: WorkerOptions): Promise<PgliteClient> {
  const worker = new Worker(workerFile(), { workerData: options })
  const pending = new Map<number, { resolve: (value: unknown) => void, reject: (err: Error) => void }>()
  let nextId = 1
  let failure: Error | undefined
  // The worker keeps the process alive only while an answer is awaited.
  worker.unref()

  const fail = (err: Error) => {
    failure ??= err
    for (const { reject } of pending.values()) reject(failure)
    pending.clear()
    worker.unref()
  }

  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject })
    worker.ref()
  })
  worker.on('message', (reply: Reply) => {
    const waiting = pending.get(reply.id)
    if (!waiting) return
    pending.delete(reply.id)
    if (pending.size === 0) worker.unref()
    if (reply.ok) waiting.resolve(reply.result)
    else waiting.reject(rebuild(reply.error))
  })
  worker.on('error', (err) => { fail(err) })
  worker.on('exit', (code) => { fail(new Error(`the embedded database's thread exited (code ${code})`)) })

  function call (op: Op): Promise<unknown> {
    if (failure) return Promise.reject(failure)
    const id = nextId++
    return new Promise((resolve, reject) => {
      if (pending.size === 0) worker.ref()
      pending.set(id, { resolve, reject })
      worker.postMessage({ ...op, id })
    })
  }

  const queries = (tx?: number): Queries => ({
    async query (sql, params, opts) {
      const rawTypes = opts?.parsers ? Object.keys(opts.parsers).map(Number) : undefined
      return await call({ op: 'query', sql, params, rowMode: opts?.rowMode, rawTypes, tx }) as QueryResult
    },
    async exec (sql) {
      return await call({ op: 'exec', sql, tx }) as QueryResult[]
    }
  })

  try {
    await ready
  } catch (err) {
    await worker.terminate()
    throw err
  }

  let closing: Promise<void> | undefined
  return {
    ...queries(),
    async transaction (fn) {
      const tx = await call({ op: 'begin' }) as number
      let ended = false
      const end = async (commit: boolean) => {
        if (ended) return
        ended = true
        await call({ op: 'end', tx, commit })
      }
      try {
        const result = await fn({ ...queries(tx), rollback: () => end(false) })
        await end(true)
        return result
      } catch (err) {
        await end(false).catch(() => {})
        throw err
      }
    },
    close () {
      closing ??= (async () => {
        if (!failure) await call({ op: 'close' }).catch(() => {})
        failure ??= new Error('the embedded database is closed')
        await worker.terminate()
      })()
      return closing
    }
  }
}
