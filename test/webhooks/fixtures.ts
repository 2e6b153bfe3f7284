import { randomUUID } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import type { Test } from 'tap'
import { buildTestApp, freshPostgresUrl, freshRedisPrefix, sharedPglite, type Mode, type TestAppOptions } from '../helper.js'
import { createDatabase, type Database } from '../../src/db/index.js'
import type { WebhookEvent, WebhookPayload } from '../../src/webhooks/events.js'

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'

export interface Received {
  id: string
  headers: IncomingHttpHeaders
  body: string
  payload: WebhookPayload
}

/** How the receiver answers: 2xx, 503, or never. */
export type Behaviour = 'ok' | 'down' | 'hang'

/** A real HTTP receiver: records what it accepted (2xx) and counts every request it got. */
export async function startReceiver (t: Test, behaviour: Behaviour = 'ok') {
  const accepted: Received[] = []
  let requests = 0
  const changed = new Set<() => void>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      requests++
      const mode = receiver.behaviour
      if (mode === 'ok') {
        const body = Buffer.concat(chunks).toString('utf8')
        accepted.push({ id: String(req.headers['webhook-id']), headers: req.headers, body, payload: JSON.parse(body) })
        res.writeHead(204).end()
      } else if (mode === 'down') {
        res.writeHead(503).end('down')
      }
      for (const notify of changed) notify()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  const receiver = {
    behaviour,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    accepted,
    requests: () => requests,
    /** Accepted events, in arrival order, optionally only those of `rooms`. */
    events (rooms?: Set<string>): WebhookEvent[] {
      const all = accepted.flatMap(r => r.payload.events)
      return rooms ? all.filter(e => e.room !== undefined && rooms.has(e.room.id)) : all
    },
    /** Resolves once `ready()` holds, checked after each request; rejects after `ms`. */
    async until (ready: () => boolean, what: string, ms = 15_000): Promise<void> {
      if (ready()) return
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { changed.delete(check); reject(new Error(`receiver: timed out waiting for ${what}`)) }, ms)
        function check () {
          if (!ready()) return
          clearTimeout(timer)
          changed.delete(check)
          resolve()
        }
        changed.add(check)
      })
    }
  }
  return receiver
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>

/** Throws unless the request carries a valid Standard Webhooks signature for `secret`. */
export function verify (received: Received, secret = SECRET): unknown {
  const headers: Record<string, string> = {}
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) headers[name] = String(received.headers[name])
  return new Webhook(secret).verify(received.body, headers)
}

/** Webhook settings in milliseconds, for tests. */
export const fastWebhooks = {
  webhookBatchIntervalMs: 40,
  webhookLeaseTtlMs: 400,
  webhookTimeoutMs: 1_000,
  webhookRetryBaseMs: 40,
  webhookRetryMaxMs: 200
}

const prefixes = new Map<string, string>()

/** The database the apps of `group` use, opened by the test itself (the app keeps `sql` inside). */
export async function databaseOf (t: Test, mode: Mode, group: string): Promise<Database> {
  if (mode === 'embedded') return await sharedPglite()
  const database = await createDatabase({ databaseUrl: await freshPostgresUrl(`webhooks-${group}`), dataDir: 'memory' })
  t.teardown(() => database.close())
  return database
}

/** An app sending to `urls`; instances given the same `group` share one database (and Redis prefix). */
export async function webhookApp (t: Test, mode: Mode, urls: string[], options: TestAppOptions & { group?: string } = {}) {
  const { group = randomUUID(), env, ...rest } = options
  if (mode === 'services' && !prefixes.has(group)) prefixes.set(group, freshRedisPrefix())
  return await buildTestApp(t, {
    mode,
    listen: false,
    shared: { databaseName: `webhooks-${group}`, prefix: prefixes.get(group) },
    env: { WEBHOOK_URLS: urls.join(','), WEBHOOK_SECRET: SECRET, ...env },
    ...fastWebhooks,
    ...rest
  })
}

/** A room of its own per test (the embedded database is shared by the tests of a file). */
export const newRoom = (kind: NonNullable<WebhookEvent['room']>['kind'] = 'channel') => ({ kind, id: randomUUID() })
