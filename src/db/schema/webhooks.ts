import { sql } from 'drizzle-orm'
import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'

/** Endpoints added over admin REST (those from WEBHOOK_URLS live in configuration only). */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: uuid('id').primaryKey().defaultRandom(),
  url: text('url').notNull(),
  /** `whsec_…`: kept in the clear, the sender needs it to sign. */
  secret: text('secret').notNull(),
  /** Event types sent to this endpoint; empty: all of them. */
  events: jsonb('events').$type<string[]>().notNull().default([]),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
})

/**
 * The outbox: one row per event, written in the transaction of the change it reports. The sender
 * moves rows out of it into deliveries (delete + insert in one transaction), in `seq` order.
 */
export const webhookEvents = pgTable('webhook_events', {
  seq: bigserial('seq', { mode: 'number' }).primaryKey(),
  type: text('type').notNull(),
  /** `kind:id`, the unit whose order is kept. */
  roomKey: text('room_key').notNull(),
  event: jsonb('event').$type<Record<string, unknown>>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
})

/**
 * One POST to one endpoint: a batch of events under a stable id (`webhook-id`), retried until it
 * is delivered or dead-lettered (`failed`). A pending delivery holds back the later deliveries
 * to its endpoint that share one of its rooms.
 */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: text('id').primaryKey(),
  position: bigserial('position', { mode: 'number' }).notNull(),
  endpointId: text('endpoint_id').notNull(),
  status: text('status').$type<'pending' | 'delivered' | 'failed'>().notNull().default('pending'),
  rooms: text('rooms').array().notNull(),
  eventIds: text('event_ids').array().notNull(),
  /** The exact body sent on every attempt, so a retry is byte for byte the same message. */
  body: text('body').notNull(),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  /** Set while a sender has the request in flight; a killed sender's claim runs out. */
  claimedUntil: timestamp('claimed_until', { withTimezone: true }),
  lastStatus: integer('last_status'),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  deliveredAt: timestamp('delivered_at', { withTimezone: true })
}, (t) => [
  index('webhook_deliveries_pending_idx').on(t.endpointId, t.position).where(sql`${t.status} = 'pending'`),
  index('webhook_deliveries_created_idx').on(t.createdAt)
])

/** Named leases: the holder of `sender` is the one instance that sends webhooks. */
export const webhookLeases = pgTable('webhook_leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull()
})
