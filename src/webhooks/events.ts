import { randomUUID } from 'node:crypto'

/** Every event type a webhook endpoint can receive (docs/webhooks.md describes each). */
export const webhookEventTypes = [
  'room.occupied', 'room.vacated', 'member.added', 'member.removed',
  'message.created', 'sync.playback', 'user.online', 'user.offline',
  // issue 21
  'message.updated', 'message.deleted'
] as const

export type WebhookEventType = typeof webhookEventTypes[number]
export type RoomKind = 'public' | 'sync' | 'group' | 'code' | 'channel'

export interface WebhookEvent {
  /** Stable across retries and redeliveries: the receiver de-dupes on it. */
  id: string
  type: WebhookEventType
  /** When it happened (ISO 8601). */
  at: string
  /** Left out for user.online / user.offline: a user is online across rooms. */
  room?: { kind: RoomKind, id: string }
  userId?: string
  data?: Record<string, unknown>
}

/** What a caller reports; `id` and `at` are filled in when left out. */
export type WebhookEventInput = Omit<WebhookEvent, 'id' | 'at'> & Partial<Pick<WebhookEvent, 'id' | 'at'>>

/** One POST body, as Pusher's webhooks have it. */
export interface WebhookPayload {
  time_ms: number
  events: WebhookEvent[]
}

const known = new Set<string>(webhookEventTypes)
export const isWebhookEventType = (type: string): type is WebhookEventType => known.has(type)

export function toWebhookEvent (input: WebhookEventInput): WebhookEvent {
  if (!isWebhookEventType(input.type)) throw new TypeError(`Unknown webhook event type: ${String(input.type)}`)
  const { id = randomUUID(), at = new Date().toISOString(), type, room, userId, data } = input
  if (room === undefined && userId === undefined) throw new TypeError(`A ${type} event needs a room or a userId`)
  return {
    id,
    type,
    at,
    ...(room !== undefined ? { room: { kind: room.kind, id: room.id } } : {}),
    ...(userId !== undefined ? { userId } : {}),
    ...(data !== undefined ? { data } : {})
  }
}

/** The unit whose order is kept: one room of one kind, or one user for the user.* events. */
export const roomKey = (event: Pick<WebhookEvent, 'room' | 'userId'>): string =>
  event.room ? `${event.room.kind}:${event.room.id}` : `user:${event.userId}`
