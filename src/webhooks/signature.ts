import { createHmac, randomBytes } from 'node:crypto'

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the secret is `whsec_` + base64
 * of the key bytes; the signature is base64 HMAC-SHA256 of `id.timestamp.body`, sent as `v1,<sig>`.
 */
const PREFIX = 'whsec_'

export function generateWebhookSecret (): string {
  return PREFIX + randomBytes(24).toString('base64')
}

export function isWebhookSecret (secret: string): boolean {
  return /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret) && secretKey(secret).length >= 16
}

function secretKey (secret: string): Buffer {
  return Buffer.from(secret.slice(PREFIX.length), 'base64')
}

export interface SignedHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/** The three headers of one attempt; `timestamp` is in seconds, per attempt. */
export function signWebhook (secret: string, id: string, timestamp: number, body: string): SignedHeaders {
  const signature = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` }
}
