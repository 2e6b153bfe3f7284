import type { FastifyBaseLogger } from 'fastify'
import type { WebhookDeliveries, DueDelivery } from './deliveries.js'
import type { WebhookEndpoint } from './endpoints.js'
import type { Lease } from './lease.js'
import type { WebhookMetrics } from './metrics.js'
import { signWebhook } from './signature.js'

export interface SenderTimes {
  /** Between two rounds: events enqueued meanwhile go out in one batch per endpoint (ms). */
  batchIntervalMs: number
  /** How long one request may take before it counts as failed (ms). */
  timeoutMs: number
  /** First retry after about this long, doubling each attempt up to `retryMaxMs` (ms). */
  retryBaseMs: number
  retryMaxMs: number
  /** Attempts before a delivery is dead-lettered (`failed`). */
  maxAttempts: number
  /** How long the sender's lease lasts without a renewal (ms). */
  leaseTtlMs: number
  /** How long finished deliveries are kept for the admin listing (ms). */
  retentionMs?: number
}

export interface SenderOptions extends SenderTimes {
  deliveries: WebhookDeliveries
  lease: Lease
  endpoints: () => Promise<WebhookEndpoint[]>
  metrics: WebhookMetrics
  log: FastifyBaseLogger
  /** Requests in flight at once, over all endpoints. */
  maxInFlight?: number
  /** Events per POST. */
  maxBatch?: number
  /**
   * With no endpoint, a round stops after reading the endpoints, but for one full round this
   * often (ms, default 30 s): deliveries left by a removed endpoint are still settled.
   */
  idleRoundMs?: number
}

export interface WebhookSender {
  start (): void
  /**
   * One round: read the endpoints; renew the lease; if held, batch the outbox and start the due
   * requests. With no endpoint only the read, but for one full round every `idleRoundMs`.
   */
  tick (): Promise<void>
  /** Stops, aborts what is in flight, gives back its claims and the lease. */
  close (): Promise<void>
  /** Stops at once and writes nothing, as a killed process would: lease and claims run out. */
  abandon (): void
}

/** Exponential backoff with jitter: half the step fixed, half random, so retries spread out. */
export function retryDelay (attempt: number, baseMs: number, maxMs: number): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(step / 2 + Math.random() * step / 2)
}

const MAX_EVENTS_PER_ROUND = 1_000
const PRUNE_EVERY_MS = 60_000

export function createWebhookSender (options: SenderOptions): WebhookSender {
  const { deliveries, lease, metrics, log, timeoutMs, maxInFlight = 16, maxBatch = 100 } = options
  const retentionMs = options.retentionMs ?? 7 * 86_400_000
  const inFlight = new Map<string, AbortController>()
  const requests = new Set<Promise<void>>()
  let timer: NodeJS.Timeout | undefined
  let running = false
  let round: Promise<void> | null = null
  let lastPrune = 0
  let lastFullRound = 0
  let abandoned = false
  const idleRoundMs = options.idleRoundMs ?? 30_000

  async function post (delivery: DueDelivery, endpoint: WebhookEndpoint, controller: AbortController): Promise<number> {
    const headers = signWebhook(endpoint.secret, delivery.id, Math.floor(Date.now() / 1000), delivery.body)
    // One controller for both close and timeout: a timer of our own, cleared on every path.
    const timer = setTimeout(() => { controller.abort(new Error(`no answer within ${timeoutMs} ms`)) }, timeoutMs)
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'roomwire-webhooks', ...headers },
        body: delivery.body,
        signal: controller.signal
      })
      await response.body?.cancel().catch(() => {})
      return response.status
    } finally {
      clearTimeout(timer)
    }
  }

  async function attempt (delivery: DueDelivery, endpoint: WebhookEndpoint, controller: AbortController): Promise<void> {
    const started = performance.now()
    let status: number | null = null
    let error: string
    try {
      status = await post(delivery, endpoint, controller)
      if (status >= 200 && status < 300) {
        metrics.sent(delivery.events, (performance.now() - started) / 1000, (Date.now() - delivery.createdAt.getTime()) / 1000)
        await deliveries.delivered(delivery.id, status)
        return
      }
      error = `HTTP ${status}`
    } catch (err) {
      if (!running) return // closing or abandoned: the claim is given back or runs out
      const reason = (controller.signal.aborted ? controller.signal.reason : err) as Error & { cause?: Error }
      error = String(reason.cause?.message ?? reason.message)
    }
    metrics.attemptFailed((performance.now() - started) / 1000)
    const dead = delivery.attempts + 1 >= options.maxAttempts
    if (dead) metrics.deadLettered()
    await deliveries.failed(delivery.id, {
      status, error, dead, retryInMs: retryDelay(delivery.attempts + 1, options.retryBaseMs, options.retryMaxMs)
    })
  }

  function launch (delivery: DueDelivery, endpoint: WebhookEndpoint | undefined): void {
    const controller = new AbortController()
    inFlight.set(delivery.id, controller)
    const request = (endpoint
      ? attempt(delivery, endpoint, controller)
      : deliveries.failed(delivery.id, { status: null, error: 'endpoint removed', dead: true, retryInMs: 0 }))
      .catch((err: unknown) => { log.warn({ err, delivery: delivery.id }, 'webhook delivery not recorded') })
      .finally(() => {
        inFlight.delete(delivery.id)
        requests.delete(request)
      })
    requests.add(request)
  }

  async function tick (): Promise<void> {
    const endpoints = await options.endpoints()
    // No endpoint takes anything: reporters write no event (webhooks.wants), so a round would
    // find nothing but what a removed endpoint left, and an idle server would run three SQL
    // statements a second for it (most of its idle CPU on PGlite).
    if (endpoints.length === 0 && Date.now() - lastFullRound < idleRoundMs) return
    lastFullRound = Date.now()
    if (!(await lease.acquire())) return
    await deliveries.fanOut(endpoints, MAX_EVENTS_PER_ROUND, maxBatch)
    const free = maxInFlight - inFlight.size
    if (free > 0) {
      // The claim outlives the request's timeout, so a live sender is never overtaken.
      const due = await deliveries.claimDue(free, timeoutMs * 2 + options.batchIntervalMs)
      const byId = new Map(endpoints.map(e => [e.id, e]))
      for (const delivery of due) launch(delivery, byId.get(delivery.endpointId))
    }
    if (Date.now() - lastPrune > PRUNE_EVERY_MS) {
      lastPrune = Date.now()
      await deliveries.prune(retentionMs)
    }
  }

  function schedule (): void {
    if (!running) return
    timer = setTimeout(() => {
      round = tick()
        .catch((err: unknown) => { log.warn({ err }, 'webhook round failed; retrying next round') })
        .finally(() => { round = null; schedule() })
    }, options.batchIntervalMs)
  }

  function stop (): string[] {
    running = false
    clearTimeout(timer)
    const ids = [...inFlight.keys()]
    for (const controller of inFlight.values()) controller.abort()
    return ids
  }

  return {
    start () {
      if (running) return
      running = true
      schedule()
    },
    tick,
    async close () {
      if (abandoned) return
      const ids = stop()
      await round
      await Promise.allSettled([...requests])
      await deliveries.unclaim(ids).catch(() => {})
      await lease.release().catch(() => {})
    },
    abandon () {
      abandoned = true
      stop()
    }
  }
}
