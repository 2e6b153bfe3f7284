import { Counter, Gauge, Histogram, Registry } from 'prom-client'

export interface WebhookMetrics {
  enqueued (count: number): void
  sent (events: number, requestSeconds: number, latencySeconds: number): void
  attemptFailed (requestSeconds: number): void
  deadLettered (): void
}

export interface BacklogSource {
  /** Events waiting in memory for their INSERT. */
  buffered (): number
  backlog (): Promise<{ events: number, deliveries: number }>
}

/**
 * Webhook metrics on `registry` (the app's, from plugins/metrics.ts, when metrics are on; else a
 * registry of their own that nobody scrapes). The backlog is read from SQL at scrape time.
 */
export function createWebhookMetrics (registry: Registry | undefined, source: BacklogSource): WebhookMetrics {
  const registers = [registry ?? new Registry()]
  const enqueued = new Counter({ name: 'roomwire_webhook_events_enqueued_total', help: 'Webhook events written to the outbox', registers })
  const sentEvents = new Counter({ name: 'roomwire_webhook_events_sent_total', help: 'Webhook events delivered (a receiver answered 2xx)', registers })
  const attempts = new Counter({
    name: 'roomwire_webhook_attempts_total',
    help: 'Webhook requests, by result (`ok`: 2xx; `failed`: another status, a network error or the timeout)',
    labelNames: ['result'] as const,
    registers
  })
  const dead = new Counter({ name: 'roomwire_webhook_deliveries_failed_total', help: 'Webhook deliveries dead-lettered after the last attempt', registers })
  const request = new Histogram({
    name: 'roomwire_webhook_request_duration_seconds',
    help: 'One webhook request, until the answer or the timeout',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers
  })
  const latency = new Histogram({
    name: 'roomwire_webhook_delivery_latency_seconds',
    help: 'From a delivery being batched to its 2xx answer, retries included',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers
  })
  new Gauge({ // eslint-disable-line no-new
    name: 'roomwire_webhook_queued',
    help: 'Webhook work waiting: `buffer` events in memory before their INSERT, `outbox` events not yet batched, `deliveries` pending',
    labelNames: ['stage'] as const,
    registers,
    async collect () {
      this.set({ stage: 'buffer' }, source.buffered())
      // SQL down: the scrape still answers (roomwire_database_up says why), without these two.
      const backlog = await source.backlog().catch(() => null)
      if (!backlog) return
      this.set({ stage: 'outbox' }, backlog.events)
      this.set({ stage: 'deliveries' }, backlog.deliveries)
    }
  })
  attempts.labels('ok').inc(0)
  attempts.labels('failed').inc(0)
  return {
    enqueued: (count) => { enqueued.inc(count) },
    sent (events, requestSeconds, latencySeconds) {
      sentEvents.inc(events)
      attempts.labels('ok').inc()
      request.observe(requestSeconds)
      latency.observe(latencySeconds)
    },
    attemptFailed (requestSeconds) {
      attempts.labels('failed').inc()
      request.observe(requestSeconds)
    },
    deadLettered: () => { dead.inc() }
  }
}
