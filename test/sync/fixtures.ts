import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { Socket } from 'socket.io-client'
import { connect, connected, once } from '../helper.js'
import type { RoomStatePayload, SyncRoom } from '../../src/contract/sync.js'

type Test = Parameters<typeof connect>[0]

/** Fast timings for the sync tests (strings, like process.env). */
export const SYNC_ENV = {
  SYNC_RECONNECT_GRACE_MS: '300',
  SYNC_PASSWORD_ATTEMPTS: '3'
}

export async function createRoom (app: FastifyInstance, token: string, body: Record<string, unknown> = {}): Promise<SyncRoom> {
  const res = await app.inject({
    method: 'POST', url: '/api/sync/rooms', headers: { authorization: `Bearer ${token}` }, payload: { name: 'Movie night', ...body }
  })
  if (res.statusCode !== 201) throw new Error(`create room failed: ${res.statusCode} ${res.body}`)
  return res.json() as SyncRoom
}

export interface SyncClientOptions {
  token?: string
  /** Act from another client IP (127.0.0.x). */
  localAddress?: string
  /** Let socket.io-client reconnect by itself (fast), as a browser would. */
  reconnection?: boolean
}

/** A connected `/sync` client that records every event it receives. */
export async function syncClient (t: Test, url: string, options: SyncClientOptions = {}): Promise<Recorded> {
  const { token, localAddress, reconnection = false } = options
  const socket = connect(t, `${url}/sync`, {
    ...(token ? { auth: { token } } : {}),
    ...(localAddress ? { localAddress } as object : {}),
    ...(reconnection ? { reconnection: true, reconnectionDelay: 20, reconnectionDelayMax: 40 } : {})
  }) as Recorded
  socket.received = []
  socket.onAny((event: string, payload: unknown) => { socket.received.push({ event, payload }) })
  await connected(socket)
  return socket
}

export type Recorded = Socket & { received: Array<{ event: string, payload: any }> }

/** Emits with an ack and resolves with the ack's reply. */
export function request<T = any> (socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(5_000).emitWithAck(event, ...args) as Promise<T>
}

/** Joins and resolves with the `room:state` event (checked against the ack). */
export async function join (socket: Socket, payload: Record<string, unknown>): Promise<RoomStatePayload> {
  const state = once<RoomStatePayload>(socket, 'room:state')
  const ack = await request(socket, 'room:join', payload)
  if (ack.ok !== true) throw new Error(`join failed: ${JSON.stringify(ack)}`)
  return await state
}

/** The `room:error` event and the ack of one emit that must fail with `code`. */
export async function failure (socket: Socket, event: string, payload?: unknown): Promise<{ ack: any, error: any }> {
  const error = once(socket, 'room:error')
  const ack = payload === undefined ? await request(socket, event) : await request(socket, event, payload)
  return { ack, error: await error }
}

/** Events of a kind a socket recorded. */
export const seen = (socket: Recorded, event: string) => socket.received.filter((r) => r.event === event).map((r) => r.payload)

/** Polls `check` until true; for state that no event announces (a server noticing a drop). */
export async function until (check: () => boolean | Promise<boolean>, ms = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** A round trip through the server: every event sent to `socket` before it has arrived. */
export async function flush (socket: Socket): Promise<void> {
  await request(socket, 'sync:time', { clientTime: 0 })
}

/**
 * The encapsulated context roomwire registers its plugins in (where `store`, `sql` and
 * `syncRooms` live; only the LIFTED decorators reach the host). Test-only: found through
 * Fastify's child-context list so that assertions can look at SQL rows and store keys.
 */
export function inner (app: FastifyInstance): FastifyInstance {
  const kChildren = Object.getOwnPropertySymbols(app).find((s) => s.description === 'fastify.children')
  const walk = (instance: FastifyInstance): FastifyInstance | null => {
    if (instance.hasDecorator('syncRooms')) return instance
    const children = kChildren ? (instance as unknown as Record<symbol, FastifyInstance[]>)[kChildren] ?? [] : []
    for (const child of children) {
      const found = walk(child)
      if (found) return found
    }
    return null
  }
  const found = walk(app)
  if (found === null) throw new Error('the sync plugin is not registered')
  return found
}

/**
 * Every room broadcast sent before this has reached `socket`: it broadcasts a (harmless)
 * pause through the same adapter path and waits for it to come back.
 */
export async function settle (socket: Socket): Promise<void> {
  const back = once(socket, 'playback:state')
  await request(socket, 'playback:update', { action: 'pause' })
  await back
}
