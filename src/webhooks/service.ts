import type { FastifyBaseLogger } from 'fastify'
import type { Registry } from 'prom-client'
import type { Db } from '../db/index.js'
import { createDeliveries, type Delivery, type DeliveryStatus } from './deliveries.js'
import { acceptsEvent, createWebhookEndpoints, type WebhookEndpoint, type WebhookEndpoints } from './endpoints.js'
import type { WebhookEvent, WebhookEventInput, WebhookEventType } from './events.js'
import { createLease } from './lease.js'
import { createWebhookMetrics } from './metrics.js'
import { createOutbox, type DbExecutor } from './outbox.js'
import { createWebhookSender, type SenderTimes, type WebhookSender } from './sender.js'

export interface WebhooksOptions extends SenderTimes {
  db: Db
  /** This instance, as the lease's holder. */
  instanceId: string
  /** Endpoints from configuration (WEBHOOK_URLS). */
  fromEnv: WebhookEndpoint[]
  /** Most events buffered in memory for their INSERT before `enqueue` waits. */
  queueBound: number
  /** The app's Prometheus registry when metrics are on. */
  registry?: Registry
  log: FastifyBaseLogger
}

export interface Webhooks {
  /** Writes events to the outbox, in the caller's transaction when given (see Outbox.enqueue). */
  enqueue (events: WebhookEventInput[], tx?: DbExecutor): Promise<WebhookEvent[]>
  /** Whether an endpoint takes `type` (as of the last refresh): reporters skip the rest. */
  wants (type: WebhookEventType): boolean
  /** Re-reads which event types the endpoints take; also every `batchIntervalMs` once started. */
  refresh (): Promise<void>
  endpoints: WebhookEndpoints
  listDeliveries (options: { status?: DeliveryStatus, endpointId?: string, limit: number }): Promise<Delivery[]>
  /** Null when there is no such delivery. */
  redeliver (id: string): Promise<Delivery | null>
  sender: WebhookSender
  /** Starts sending (when this instance holds the lease) and re-reading the endpoints. */
  start (): void
  /** Stops sending: lease and claims given back; events may still be written. */
  stop (): Promise<void>
  /** Stops sending and writes what is buffered; later writes are refused. */
  close (): Promise<void>
}

/** Outbox, endpoints and the leased sender, put together; knows nothing of Fastify. */
export function createWebhooks (options: WebhooksOptions): Webhooks {
  const { db, instanceId, fromEnv, queueBound, registry, log } = options
  const deliveries = createDeliveries(db)
  const stored = createWebhookEndpoints(db, fromEnv)
  // Each instance re-reads the endpoints itself, as its sender's round begins: one added on
  // another instance is seen a round later.
  let current: Array<Pick<WebhookEndpoint, 'events'>> = fromEnv
  async function read (): Promise<WebhookEndpoint[]> {
    const list = await stored.list()
    current = list
    return list
  }
  const endpoints: WebhookEndpoints = {
    list: () => stored.list(),
    async create (endpoint) { const created = await stored.create(endpoint); await read(); return created },
    async remove (id) { const removed = await stored.remove(id); await read(); return removed }
  }
  const outbox = createOutbox({
    db,
    queueBound,
    retryMs: options.retryBaseMs,
    onEnqueued: (count) => { metrics.enqueued(count) },
    onError: (err) => { log.warn({ err }, 'webhook events not written yet; retrying') }
  })
  const metrics = createWebhookMetrics(registry, { buffered: () => outbox.buffered(), backlog: () => deliveries.backlog() })
  const sender = createWebhookSender({
    ...options,
    deliveries,
    lease: createLease(db, 'sender', instanceId, options.leaseTtlMs),
    endpoints: read,
    metrics,
    log
  })
  return {
    enqueue: (events, tx) => outbox.enqueue(events, tx),
    wants: (type) => current.some(endpoint => acceptsEvent(endpoint, type)),
    async refresh () { await read() },
    endpoints,
    listDeliveries: (query) => deliveries.list(query),
    redeliver: (id) => deliveries.redeliver(id),
    sender,
    start () {
      sender.start()
    },
    async stop () {
      await sender.close()
    },
    async close () {
      await this.stop()
      await outbox.close()
    }
  }
}
