import type { Db } from '../db/index.js'
import { webhookEvents } from '../db/schema/index.js'
import { roomKey, toWebhookEvent, type WebhookEvent, type WebhookEventInput } from './events.js'

/** A drizzle transaction (or the database itself): whatever `db.transaction` hands its callback. */
export type DbExecutor = Db | Parameters<Parameters<Db['transaction']>[0]>[0]

export interface Outbox {
  /**
   * Writes events to the outbox table. In `tx`, they commit (or roll back) with the caller's
   * change. Without one, calls made together share one INSERT; the promise resolves once the rows
   * are committed, and a full buffer makes callers wait rather than drop anything.
   */
  enqueue (events: WebhookEventInput[], tx?: DbExecutor): Promise<WebhookEvent[]>
  /** Events waiting in memory for their INSERT. */
  buffered (): number
  /** Writes what is buffered; later calls are refused. */
  close (): Promise<void>
}

export interface OutboxOptions {
  db: Db
  /** Most events held in memory before callers wait. */
  queueBound: number
  /** Wait after a failed INSERT before trying again (ms). */
  retryMs: number
  onEnqueued?: (count: number) => void
  onError?: (err: unknown) => void
}

interface Pending { events: WebhookEvent[], resolve: () => void, reject: (err: unknown) => void }

const rowsOf = (events: WebhookEvent[]) => events.map(event => ({
  type: event.type, roomKey: roomKey(event), event: event as unknown as Record<string, unknown>
}))

/** Most rows in one INSERT (PostgreSQL takes at most 65,535 parameters; a row has three). */
const MAX_ROWS_PER_INSERT = 1_000

export function createOutbox ({ db, queueBound, retryMs, onEnqueued, onError }: OutboxOptions): Outbox {
  let queue: Pending[] = []
  let queuedEvents = 0
  let flushing: Promise<void> | null = null
  let closed = false
  const roomWaiters: Array<() => void> = []

  async function insertOnce (batch: Pending[]): Promise<void> {
    const events = batch.flatMap(p => p.events)
    for (let i = 0; i < events.length; i += MAX_ROWS_PER_INSERT) {
      await db.insert(webhookEvents).values(rowsOf(events.slice(i, i + MAX_ROWS_PER_INSERT)))
    }
  }

  // One INSERT per round for whatever queued up meanwhile; a failed one is retried, never dropped.
  async function drain (): Promise<void> {
    while (queue.length > 0) {
      const batch = queue
      queue = []
      for (;;) {
        try {
          await insertOnce(batch)
          break
        } catch (err) {
          onError?.(err)
          // Closing: the callers hear of it, the process is going away.
          if (closed) return failAll([...batch, ...queue], err)
          await new Promise(resolve => setTimeout(resolve, retryMs))
        }
      }
      const count = batch.reduce((n, p) => n + p.events.length, 0)
      queuedEvents -= count
      onEnqueued?.(count)
      for (const pending of batch) pending.resolve()
      while (roomWaiters.length > 0 && !full()) roomWaiters.shift()!()
    }
  }

  const full = () => queuedEvents >= queueBound

  function failAll (pending: Pending[], err: unknown): void {
    queue = []
    queuedEvents = 0
    for (const p of pending) p.reject(err)
  }

  function scheduleDrain (): void {
    flushing ??= drain().finally(() => { flushing = null })
  }

  return {
    async enqueue (inputs, tx) {
      const events = inputs.map(toWebhookEvent)
      if (events.length === 0) return events
      if (tx) {
        await tx.insert(webhookEvents).values(rowsOf(events))
        onEnqueued?.(events.length)
        return events
      }
      if (closed) throw new Error('The webhook outbox is closed')
      while (full()) await new Promise<void>(resolve => { roomWaiters.push(resolve) })
      queuedEvents += events.length
      await new Promise<void>((resolve, reject) => {
        queue.push({ events, resolve, reject })
        scheduleDrain()
      })
      return events
    },
    buffered: () => queuedEvents,
    async close () {
      closed = true
      await flushing
    }
  }
}
