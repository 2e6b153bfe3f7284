import { createHash } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { webhookEndpoints } from '../db/schema/index.js'
import { isWebhookEventType, type WebhookEventType } from './events.js'
import { generateWebhookSecret } from './signature.js'

export interface WebhookEndpoint {
  id: string
  url: string
  secret: string
  /** Empty: every event type. */
  events: WebhookEventType[]
  /** `env`: from WEBHOOK_URLS (read only); `api`: added over admin REST, stored in SQL. */
  source: 'env' | 'api'
  createdAt: Date | null
}

export interface NewWebhookEndpoint {
  url: string
  events?: WebhookEventType[]
  /** Generated when left out (and returned once, on creation). */
  secret?: string
}

export interface WebhookEndpoints {
  list (): Promise<WebhookEndpoint[]>
  create (endpoint: NewWebhookEndpoint): Promise<WebhookEndpoint>
  /** False when there is no such stored endpoint (env endpoints cannot be removed). */
  remove (id: string): Promise<boolean>
}

export const acceptsEvent = (endpoint: Pick<WebhookEndpoint, 'events'>, type: string): boolean =>
  endpoint.events.length === 0 || (endpoint.events as string[]).includes(type)

/** A comma- or space-separated list: URLs (WEBHOOK_URLS) or event types (WEBHOOK_EVENTS). */
export function splitList (value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean)
}

export function parseEventFilter (value: string): WebhookEventType[] {
  const types = splitList(value)
  const unknown = types.find(type => !isWebhookEventType(type))
  if (unknown) throw new Error(`Invalid configuration: WEBHOOK_EVENTS has an unknown event type "${unknown}"`)
  return types as WebhookEventType[]
}

export function isHttpUrl (value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

export interface EnvEndpointSettings { webhookUrls: string, webhookSecret?: string, webhookEvents: string }

/** The endpoints WEBHOOK_URLS names; the id is derived from the URL, so it survives restarts. */
export function envEndpoints ({ webhookUrls, webhookSecret, webhookEvents }: EnvEndpointSettings): WebhookEndpoint[] {
  const urls = splitList(webhookUrls)
  if (urls.length === 0) return []
  const bad = urls.find(url => !isHttpUrl(url))
  if (bad) throw new Error(`Invalid configuration: WEBHOOK_URLS has "${bad}", not an http(s) URL`)
  if (!webhookSecret) throw new Error('Invalid configuration: WEBHOOK_URLS is set but WEBHOOK_SECRET is not (whsec_ + base64)')
  const events = parseEventFilter(webhookEvents)
  return urls.map(url => ({
    id: `env-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`,
    url,
    secret: webhookSecret,
    events,
    source: 'env' as const,
    createdAt: null
  }))
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function createWebhookEndpoints (db: Db, fromEnv: WebhookEndpoint[]): WebhookEndpoints {
  return {
    async list () {
      const stored = await db.select().from(webhookEndpoints).orderBy(webhookEndpoints.createdAt)
      return [...fromEnv, ...stored.map(row => ({ ...row, events: row.events as WebhookEventType[], source: 'api' as const }))]
    },
    async create ({ url, events = [], secret = generateWebhookSecret() }) {
      const [row] = await db.insert(webhookEndpoints).values({ url, events, secret }).returning()
      return { ...row, events: row.events as WebhookEventType[], source: 'api' }
    },
    async remove (id) {
      if (!UUID.test(id)) return false
      const removed = await db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).returning({ id: webhookEndpoints.id })
      return removed.length > 0
    }
  }
}
