import { randomUUID } from 'node:crypto'
import { and, desc, eq, inArray, lt, ne, sql } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { webhookDeliveries, webhookEvents } from '../db/schema/index.js'
import { acceptsEvent, type WebhookEndpoint } from './endpoints.js'
import type { WebhookEvent, WebhookPayload } from './events.js'

export type DeliveryStatus = 'pending' | 'delivered' | 'failed'

export interface Delivery {
  id: string
  endpointId: string
  status: DeliveryStatus
  eventIds: string[]
  attempts: number
  nextAttemptAt: Date
  lastStatus: number | null
  lastError: string | null
  createdAt: Date
  deliveredAt: Date | null
}

/** A delivery claimed for one attempt. */
export interface DueDelivery { id: string, endpointId: string, body: string, attempts: number, events: number, createdAt: Date }

export interface AttemptFailure { status: number | null, error: string, retryInMs: number, dead: boolean }

const messageId = () => `msg_${randomUUID().replaceAll('-', '')}`

/** The deliveries table: batches made from the outbox, claimed, retried, listed, redelivered. */
export function createDeliveries (db: Db) {
  return {
    /**
     * Moves up to `maxEvents` of the oldest outbox events into deliveries, one batch of at most
     * `maxBatch` per endpoint that accepts them, in one transaction (delete + insert).
     */
    async fanOut (endpoints: WebhookEndpoint[], maxEvents: number, maxBatch: number): Promise<number> {
      return await db.transaction(async (tx) => {
        const taken = await tx.execute<{ seq: string, type: string, room_key: string, event: WebhookEvent }>(sql`
          delete from webhook_events where seq in (
            select seq from webhook_events order by seq limit ${maxEvents} for update skip locked
          ) returning seq, type, room_key, event`)
        const events = taken.rows.sort((a, b) => Number(a.seq) - Number(b.seq))
        const rows = []
        for (const endpoint of endpoints) {
          const accepted = events.filter(e => acceptsEvent(endpoint, e.type))
          for (let i = 0; i < accepted.length; i += maxBatch) {
            const batch = accepted.slice(i, i + maxBatch)
            const payload: WebhookPayload = { time_ms: Date.now(), events: batch.map(e => e.event) }
            rows.push({
              id: messageId(),
              endpointId: endpoint.id,
              rooms: [...new Set(batch.map(e => e.room_key))],
              eventIds: batch.map(e => e.event.id),
              body: JSON.stringify(payload)
            })
          }
        }
        if (rows.length > 0) await tx.insert(webhookDeliveries).values(rows)
        return events.length
      })
    },

    /**
     * Claims for `claimMs` up to `limit` deliveries that are due, oldest first, skipping any whose
     * endpoint has an earlier pending delivery sharing a room (order per room).
     */
    async claimDue (limit: number, claimMs: number): Promise<DueDelivery[]> {
      const claimed = await db.execute<{ id: string, endpoint_id: string, body: string, attempts: number, events: number, created_at: string | Date }>(sql`
        update webhook_deliveries set claimed_until = now() + ${claimMs} * interval '1 millisecond'
        where id in (
          select d.id from webhook_deliveries d
          where d.status = 'pending' and d.next_attempt_at <= now()
            and (d.claimed_until is null or d.claimed_until < now())
            and not exists (
              select 1 from webhook_deliveries e
              where e.endpoint_id = d.endpoint_id and e.status = 'pending'
                and e.position < d.position and e.rooms && d.rooms)
          order by d.position limit ${limit}
          for update of d skip locked
        ) returning id, endpoint_id, body, attempts, cardinality(event_ids) as events, created_at`)
      return claimed.rows.map(r => ({ id: r.id, endpointId: r.endpoint_id, body: r.body, attempts: r.attempts, events: Number(r.events), createdAt: new Date(r.created_at) }))
    },

    async delivered (id: string, status: number): Promise<void> {
      await db.update(webhookDeliveries).set({
        status: 'delivered',
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        lastStatus: status,
        lastError: null,
        claimedUntil: null,
        deliveredAt: sql`now()`
      }).where(eq(webhookDeliveries.id, id))
    },

    /** One failed attempt: retried after `retryInMs`, or dead-lettered. A late result never undoes a delivery. */
    async failed (id: string, failure: AttemptFailure): Promise<void> {
      await db.update(webhookDeliveries).set({
        status: failure.dead ? 'failed' : 'pending',
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        lastStatus: failure.status,
        lastError: failure.error.slice(0, 500),
        claimedUntil: null,
        nextAttemptAt: sql`now() + ${failure.retryInMs} * interval '1 millisecond'`
      }).where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'pending')))
    },

    /** Gives claims back (a sender closing with requests in flight). */
    async unclaim (ids: string[]): Promise<void> {
      if (ids.length === 0) return
      await db.update(webhookDeliveries).set({ claimedUntil: null })
        .where(and(inArray(webhookDeliveries.id, ids), eq(webhookDeliveries.status, 'pending')))
    },

    async list (options: { status?: DeliveryStatus, endpointId?: string, limit: number }): Promise<Delivery[]> {
      const filters = [
        options.status ? eq(webhookDeliveries.status, options.status) : undefined,
        options.endpointId ? eq(webhookDeliveries.endpointId, options.endpointId) : undefined
      ]
      const rows = await db.select().from(webhookDeliveries).where(and(...filters))
        .orderBy(desc(webhookDeliveries.position)).limit(options.limit)
      return rows.map(toDelivery)
    },

    /** Sends a delivery again under the same id, as soon as its turn in its rooms comes. */
    async redeliver (id: string): Promise<Delivery | null> {
      const [row] = await db.update(webhookDeliveries).set({
        status: 'pending', attempts: 0, nextAttemptAt: sql`now()`, claimedUntil: null, lastError: null
      }).where(eq(webhookDeliveries.id, id)).returning()
      return row ? toDelivery(row) : null
    },

    /** Outbox events not yet batched, and pending deliveries. */
    async backlog (): Promise<{ events: number, deliveries: number }> {
      const [events] = await db.select({ n: sql<number>`count(*)::int` }).from(webhookEvents)
      const [deliveries] = await db.select({ n: sql<number>`count(*)::int` }).from(webhookDeliveries)
        .where(eq(webhookDeliveries.status, 'pending'))
      return { events: events.n, deliveries: deliveries.n }
    },

    /** Forgets finished deliveries older than `retentionMs`. */
    async prune (retentionMs: number): Promise<void> {
      await db.delete(webhookDeliveries).where(and(
        ne(webhookDeliveries.status, 'pending'),
        lt(webhookDeliveries.createdAt, sql`now() - ${retentionMs} * interval '1 millisecond'`)
      ))
    }
  }
}

export type WebhookDeliveries = ReturnType<typeof createDeliveries>

function toDelivery (row: typeof webhookDeliveries.$inferSelect): Delivery {
  const { id, endpointId, status, eventIds, attempts, nextAttemptAt, lastStatus, lastError, createdAt, deliveredAt } = row
  return { id, endpointId, status, eventIds, attempts, nextAttemptAt, lastStatus, lastError, createdAt, deliveredAt }
}
