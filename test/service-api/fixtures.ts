import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client'
import {
  ADMIN_API_KEY, IP_HASH_SECRET, JWT_SECRET, connect, connected, freshPostgresUrl, freshRedisPrefix, sharedPglite, type Mode
} from '../helper.js'
import configPlugin from '../../plugins/config.js'
import dbPlugin from '../../plugins/db.js'
import redisPlugin from '../../plugins/redis.js'
import storePlugin from '../../plugins/store.js'
import instancePlugin from '../../plugins/instance.js'
import socketIoPlugin from '../../plugins/socket-io.js'
import authPlugin from '../../plugins/auth.js'
import rateLimitPlugin from '../../plugins/rate-limit.js'
import presencePlugin from '../../plugins/presence.js'
import chatPlugin from '../../plugins/chat.js'
import moderationPlugin from '../../plugins/moderation.js'
import serviceApiPlugin from '../../plugins/service-api.js'
import { installErrorHandling } from '../../src/http-errors.js'
import type { SocketUser } from '../../src/service-api/types.js'
import roomEventsPlugin from '../../plugins/room-events.js'

type Test = Parameters<typeof connect>[0]

export interface Received { event: string, data: any }

/** A client of `/` that records what it receives, so a test can wait for an event or check one never came. */
export class Client {
  readonly socket: Socket
  readonly received: Received[] = []
  private readonly waiters = new Set<() => void>()
  private readonly cursors = new Map<string, number>()

  constructor (t: Test, url: string, token: string, options: Partial<ManagerOptions & SocketOptions> = {}) {
    this.socket = connect(t, url, { auth: { token }, ...options })
    this.socket.onAny((event: string, data: unknown) => { this.record(event, data) })
    this.socket.on('disconnect', (reason) => { this.record('disconnect', reason) })
    this.socket.on('connect_error', (err) => { this.record('connect_error', err) })
  }

  get id (): string { return this.socket.id! }

  private record (event: string, data: unknown): void {
    this.received.push({ event, data })
    for (const wake of [...this.waiters]) wake()
  }

  all (event: string): any[] {
    return this.received.filter((r) => r.event === event).map((r) => r.data)
  }

  /** The next `event` matching `match` after the last one returned for that name (or after index `from`). */
  next (event: string, match: (data: any) => boolean = () => true, from?: number, ms = 5_000): Promise<any> {
    const start = from ?? this.cursors.get(event) ?? 0
    return new Promise((resolve, reject) => {
      const check = () => {
        const offset = this.received.slice(start).findIndex((r) => r.event === event && match(r.data))
        if (offset < 0) return
        this.waiters.delete(check)
        clearTimeout(timer)
        this.cursors.set(event, start + offset + 1)
        resolve(this.received[start + offset].data)
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`timed out waiting for "${event}"; got ${this.received.slice(start).map((r) => r.event).join(', ') || 'nothing'}`))
      }, ms)
      this.waiters.add(check)
      check()
    })
  }

  mark (): number {
    return this.received.length
  }

  emit (event: string, ...args: unknown[]): void {
    this.socket.emit(event, ...args)
  }

  async ack (event: string, ...args: unknown[]): Promise<any> {
    return await this.socket.timeout(5_000).emitWithAck(event, ...args)
  }

  close (): void {
    this.socket.disconnect()
  }
}

/**
 * A client connected to `app` and registered by its service API (its `connection` event has
 * fired), so that every instance's `app.realtime` sees it.
 */
export async function openClient (t: Test, app: FastifyInstance, url: string, token: string, options: Partial<ManagerOptions & SocketOptions> = {}): Promise<Client> {
  const seen = new Set<string>()
  let wake = () => {}
  const listener = (user: SocketUser) => { seen.add(user.socketId); wake() }
  app.realtime.on('connection', listener)
  try {
    const client = new Client(t, url, token, options)
    await connected(client.socket)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the service never saw socket ${client.id}`)), 5_000)
      wake = () => { if (seen.has(client.id)) { clearTimeout(timer); resolve() } }
      wake()
    })
    return client
  } finally {
    app.realtime.off('connection', listener)
  }
}

/** Waits until emissions from `from` reach `to` through the adapter (its stream readers are running). */
export async function crossReady (from: FastifyInstance, to: Client, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  for (let n = 0; Date.now() < deadline; n++) {
    const probe = `probe-${n}`
    const seen = to.next('adapter:probe', (d) => d === probe, to.mark(), 100).then(() => true, () => false)
    await from.realtime.emitToSocket(to.id, 'adapter:probe', probe)
    if (await seen) return
  }
  throw new Error('the adapter never delivered across instances')
}

/** Resolves with the arguments of the next `event` of `app.realtime` that matches. */
export function serviceEvent (app: FastifyInstance, event: string, match: (...args: any[]) => boolean = () => true, ms = 5_000): Promise<any[]> {
  const emitter = app.realtime as unknown as NodeJS.EventEmitter
  return new Promise((resolve, reject) => {
    const listener = (...args: any[]) => {
      if (!match(...args)) return
      clearTimeout(timer)
      emitter.off(event, listener)
      resolve(args)
    }
    const timer = setTimeout(() => { emitter.off(event, listener); reject(new Error(`timed out waiting for service event ${event}`)) }, ms)
    emitter.on(event, listener)
  })
}

export const adminKey = { 'x-api-key': ADMIN_API_KEY }
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export interface BareAppOptions {
  mode: Mode
  /** The service API's clock. */
  now?: () => number
  /** A Redis prefix shared with another instance (services mode). */
  prefix?: string
  env?: NodeJS.ProcessEnv
  presenceSweepMs?: number
}

/**
 * The service-api plugin on a bare Fastify with the plugins it depends on (as src/app.ts
 * registers them), so a test can hand it options: a clock it moves in minutes.
 */
export async function bareApp (t: Test, options: BareAppOptions): Promise<{ app: FastifyInstance, url: string, prefix: string }> {
  const env: NodeJS.ProcessEnv = { JWT_SECRET, IP_HASH_SECRET, ADMIN_API_KEY, LOG_LEVEL: 'silent', ...options.env }
  let prefix = ''
  if (options.mode === 'services') {
    prefix = options.prefix ?? freshRedisPrefix()
    Object.assign(env, { REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: prefix, DATABASE_URL: await freshPostgresUrl() })
  }
  const app = Fastify()
  await app.register(configPlugin, { env })
  installErrorHandling(app, { notFound: true })
  await app.register(dbPlugin, { database: options.mode === 'embedded' ? await sharedPglite() : undefined })
  await app.register(redisPlugin)
  await app.register(storePlugin)
  await app.register(socketIoPlugin)
  await app.register(authPlugin)
  await app.register(rateLimitPlugin)
  await app.register(instancePlugin, { sweepIntervalMs: options.presenceSweepMs })
  await app.register(roomEventsPlugin)
  await app.register(presencePlugin)
  await app.register(moderationPlugin)
  await app.register(chatPlugin)
  await app.register(serviceApiPlugin, { now: options.now })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, prefix }
}
