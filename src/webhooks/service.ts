import type { FastifyBaseLogger } from 'fastify'
import type { Registry } from 'prom-client'
import type { Db } from '../db/index.js'
import { createDeliveries, type Delivery, type DeliveryStatus } from './deliveries.js'
import { createWebhookEndpoints, type WebhookEndpoint, type WebhookEndpoints } from './endpoints.js'
import type { WebhookEvent, WebhookEventInput } from './events.js'
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
  endpoints: WebhookEndpoints
  listDeliveries (options: { status?: DeliveryStatus, endpointId?: string, limit: number }): Promise<Delivery[]>
  /** Null when there is no such delivery. */
  redeliver (id: string): Promise<Delivery | null>
  sender: WebhookSender
  /** Stops sending (lease and claims given back) and writes what is buffered. */
  close (): Promise<void>
}

/** Outbox, endpoints and the leased sender, put together; knows nothing of Fastify. */
export function createWebhooks (options: WebhooksOptions): Webhooks {
  const { db, instanceId, fromEnv, queueBound, registry, log } = options
  const deliveries = createDeliveries(db)
  const endpoints = createWebhookEndpoints(db, fromEnv)
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
    endpoints: () => endpoints.list(),
    metrics,
    log
  })
  return {
    enqueue: (events, tx) => outbox.enqueue(events, tx),
    endpoints,
    listDeliveries: (query) => deliveries.list(query),
    redeliver: (id) => deliveries.redeliver(id),
    sender,
    async close () {
      await sender.close()
      await outbox.close()
    }
  }
}
