import Type, { type Static, type TSchema } from 'typebox'
import { adminAuth, ErrorResponse, route, SAFE_CHARS, Text } from '../contract/common.js'
import { webhookEventTypes } from './events.js'

/**
 * Admin REST for webhooks (docs/webhooks.md); admin JWT or `x-api-key` as every admin route.
 * Error codes: `UNAUTHORIZED` (401), `INVALID_TOKEN` (401), `FORBIDDEN` (403), `INVALID_REQUEST`
 * (400), `WEBHOOK_NOT_FOUND` / `DELIVERY_NOT_FOUND` (404).
 */

const IsoDate = Type.String({ format: 'date-time' })
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const EventType = Type.Enum(webhookEventTypes)

export const CreateWebhookBody = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2000, pattern: `^https?://${SAFE_CHARS}$` }),
  /** Event types to send; empty or left out: all. */
  events: Type.Optional(Type.Array(EventType, { maxItems: webhookEventTypes.length, uniqueItems: true })),
  /** `whsec_` + base64 of at least 16 bytes; generated when left out. */
  secret: Type.Optional(Type.String({ pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$', minLength: 28, maxLength: 200 }))
}, { additionalProperties: false })

export const WebhookEndpointView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(EventType),
  /** `env`: from WEBHOOK_URLS (cannot be deleted here); `api`: added over this API. */
  source: Type.Union([Type.Literal('env'), Type.Literal('api')]),
  createdAt: Nullable(IsoDate)
})

export const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])

export const DeliveryView = Type.Object({
  /** The `webhook-id` of every attempt. */
  id: Type.String(),
  endpointId: Type.String(),
  status: DeliveryStatus,
  eventIds: Type.Array(Type.String()),
  attempts: Type.Integer(),
  nextAttemptAt: IsoDate,
  lastStatus: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  createdAt: IsoDate,
  deliveredAt: Nullable(IsoDate)
})

export const DeliveriesQuery = Type.Object({
  status: Type.Optional(DeliveryStatus),
  endpointId: Type.Optional(Text({ minLength: 1, maxLength: 100 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 }))
}, { additionalProperties: false })

const IdParams = Type.Object({ id: Text({ minLength: 1, maxLength: 100 }) })
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse }

export const webhookRouteSchemas = {
  create: route('admin', 'Add a webhook endpoint (its secret is shown only here)', {
    body: CreateWebhookBody,
    response: { 201: Type.Object({ webhook: Type.Object({ ...WebhookEndpointView.properties, secret: Type.String() }) }), ...errors }
  }, adminAuth),
  list: route('admin', 'List webhook endpoints (from WEBHOOK_URLS and from this API)', {
    response: { 200: Type.Object({ webhooks: Type.Array(WebhookEndpointView) }), ...errors }
  }, adminAuth),
  remove: route('admin', 'Remove a webhook endpoint added over this API', { params: IdParams, response: { 204: Type.Null(), ...errors } }, adminAuth),
  deliveries: route('admin', 'Recent webhook deliveries and their status, newest first', {
    querystring: DeliveriesQuery,
    response: { 200: Type.Object({ deliveries: Type.Array(DeliveryView) }), ...errors }
  }, adminAuth),
  redeliver: route('admin', 'Send a webhook delivery again, under the same id', {
    params: IdParams,
    response: { 202: Type.Object({ delivery: DeliveryView }), ...errors }
  }, adminAuth)
}

/* eslint-disable @typescript-eslint/no-redeclare -- a schema and its static type share a name */
export type CreateWebhookBody = Static<typeof CreateWebhookBody>
export type WebhookEndpointView = Static<typeof WebhookEndpointView>
export type DeliveryView = Static<typeof DeliveryView>
