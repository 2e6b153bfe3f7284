import { randomUUID } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { Webhook } from 'standardwebhooks'
import { io as ioClient, type Socket } from 'socket.io-client'
import { ADMIN_API_KEY, freshPostgresUrl, freshRedisPrefix, IP_HASH_SECRET, JWT_SECRET } from '../helper.js'
import { startInstance, type Instance } from '../cluster/fixtures/processes.js'
import { SECRET } from './fixtures.js'
import type { WebhookEvent, WebhookPayload } from '../../src/webhooks/events.js'

type Test = Parameters<typeof startInstance>[0]

/** One verified request, and whether it was answered (`ok`) or swallowed. */
export interface Request { id: string, headers: IncomingHttpHeaders, body: string, payload: WebhookPayload, answered: boolean }

/**
 * How the receiver treats a request: `ok` records it and answers 204; `hang` never answers;
 * `swallow` records it and never answers (the sender cannot know it arrived: a duplicate to be).
 * `close()` stops listening altogether (connection refused), `open()` listens again on the port.
 */
export type Mode = 'ok' | 'hang' | 'swallow'

/** A real HTTP receiver that verifies every request's Standard Webhooks signature. */
export async function startVerifyingReceiver (t: Test) {
  const recorded: Request[] = []
  const bad: string[] = []
  const hanging = new Set<ServerResponse>()
  let requests = 0
  let mostAtOnce = 0
  const wh = new Webhook(SECRET)
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      requests++
      const body = Buffer.concat(chunks).toString('utf8')
      const mode = receiver.mode
      if (mode !== 'hang') {
        try {
          // The package checks the HMAC and that the timestamp is recent (5 minutes).
          const payload = wh.verify(body, req.headers as Record<string, string>) as WebhookPayload
          recorded.push({ id: String(req.headers['webhook-id']), headers: req.headers, body, payload, answered: mode === 'ok' })
        } catch (err) {
          bad.push(String(err))
          res.writeHead(400).end()
          return
        }
      }
      if (mode === 'ok') {
        res.writeHead(204).end()
        return
      }
      hanging.add(res)
      mostAtOnce = Math.max(mostAtOnce, hanging.size)
      res.on('close', () => hanging.delete(res))
    })
  })
  let port = 0
  const open = async () => {
    await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  }
  const close = async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  }
  await open()
  t.teardown(async () => { if (server.listening) await close() })
  const receiver = {
    mode: 'ok' as Mode,
    url: `http://127.0.0.1:${port}/hook`,
    recorded,
    /** Requests whose signature did not verify (should stay empty). */
    bad,
    requests: () => requests,
    /** Requests held open now, and the most held at once. */
    hanging: () => hanging.size,
    mostAtOnce: () => mostAtOnce,
    open,
    close,
    /** Every recorded event copy, in arrival order. */
    copies: (): WebhookEvent[] => recorded.flatMap(r => r.payload.events),
    /** Each event once (its first copy), in arrival order. */
    events (): WebhookEvent[] {
      const seen = new Set<string>()
      return receiver.copies().filter(e => !seen.has(e.id) && seen.add(e.id) !== undefined)
    }
  }
  return receiver
}

export type VerifyingReceiver = Awaited<ReturnType<typeof startVerifyingReceiver>>

/** Polls `check` every 25 ms; rejects after `ms` naming `what`. */
export async function until (check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

/** Env of instances sharing a database and Redis prefix of their own, sending to `url` with test timings. */
export async function webhookEnv (url: string, extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  return {
    DATABASE_URL: await freshPostgresUrl(`webhook-processes-${randomUUID()}`),
    REDIS_URL: process.env.REDIS_URL,
    REDIS_KEY_PREFIX: freshRedisPrefix(),
    JWT_SECRET,
    IP_HASH_SECRET,
    ADMIN_API_KEY,
    INSTANCE_TTL_MS: '600',
    LOG_LEVEL: 'info',
    WEBHOOK_URLS: url,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_BATCH_INTERVAL_MS: '50',
    WEBHOOK_LEASE_TTL_MS: '600',
    WEBHOOK_TIMEOUT_MS: '1500',
    WEBHOOK_RETRY_BASE_MS: '100',
    WEBHOOK_RETRY_MAX_MS: '1000',
    WEBHOOK_MAX_ATTEMPTS: '1000',
    ...extra
  }
}

/** A client of the instances' database: the lease and how many events the outbox has taken. */
export async function outboxOf (t: Test, databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  t.teardown(() => client.end())
  return {
    async holder (): Promise<string | null> {
      const { rows } = await client.query<{ holder: string }>("select holder from webhook_leases where name = 'sender' and expires_at > now()")
      return rows[0]?.holder ?? null
    },
    /** Events committed so far: still in the outbox, or batched into deliveries (one endpoint). */
    async written (): Promise<number> {
      const { rows } = await client.query<{ n: number }>(`select
        (select count(*) from webhook_events)::int + coalesce((select sum(cardinality(event_ids)) from webhook_deliveries), 0)::int as n`)
      return Number(rows[0].n)
    }
  }
}

/** The instance's own id (the lease's holder names it), from its operations overview. */
export async function instanceIdOf (instance: Instance): Promise<string> {
  const res = await fetch(`${instance.url}/api/ops/overview`, { headers: { 'x-api-key': ADMIN_API_KEY } })
  const body = await res.json() as { instances: Array<{ instanceId: string, self: boolean }> }
  return body.instances.find(i => i.self)!.instanceId
}

/** A socket of `/` with this token, disconnected on teardown. */
export function chatSocket (t: Test, instance: Instance, token: string): Socket {
  const socket = ioClient(instance.url, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token } })
  t.teardown(() => { socket.disconnect() })
  return socket
}

/** Emits with an ack and resolves with it (rejects after `ms`: a socket that was slowed down). */
export function ack<T = any> (socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(10_000).emitWithAck(event, ...args) as Promise<T>
}

/** "type userId members" per event, the order a room's receiver has to rebuild it. */
export const brief = (events: WebhookEvent[]) => events.map(e => [e.type, e.userId, e.data?.members].filter(x => x !== undefined).join(' '))

/** The events of one room (by id), each once, in arrival order. */
export const ofRoom = (events: WebhookEvent[], roomId: string) => events.filter(e => e.room?.id === roomId)

/** Every copy of one event id carries the same event (a duplicate is a resend, never a new event). */
export function sameCopies (receiver: VerifyingReceiver): boolean {
  const first = new Map<string, string>()
  for (const e of receiver.copies()) {
    const json = JSON.stringify(e)
    if ((first.get(e.id) ?? json) !== json) return false
    first.set(e.id, json)
  }
  return true
}
