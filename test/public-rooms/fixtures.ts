import type { FastifyInstance } from 'fastify'
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client'
import { connect, registerUser } from '../helper.js'

type Test = Parameters<typeof connect>[0]

export const HERE = '127.0.0.1'
export const ELSEWHERE = '127.0.0.2'

export interface Room { id: string, name: string, capacity: number, createdBy: string, createdAt: string, currentOccupancy: number }
export interface PublicUser { userId: string, userName: string }
export interface Received { event: string, data: any }

/** A registered user creates a room through REST. */
export async function createRoom (app: FastifyInstance, body: { name?: string, capacity?: number } = {}): Promise<Room> {
  const { token } = await registerUser(app)
  const res = await app.inject({
    method: 'POST', url: '/api/public/rooms', headers: { authorization: `Bearer ${token}` }, payload: { name: 'Study hall', ...body }
  })
  if (res.statusCode !== 201) throw new Error(`create room: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** An anonymous user created from `ip`. */
export async function createUser (app: FastifyInstance, userName: string, ip = HERE): Promise<PublicUser> {
  const res = await app.inject({ method: 'POST', url: '/api/public/users', payload: { userName }, remoteAddress: ip })
  if (res.statusCode !== 201) throw new Error(`create user: ${res.statusCode} ${res.body}`)
  return res.json()
}

export async function restJoin (app: FastifyInstance, roomId: string, userId: string, ip = HERE) {
  return await app.inject({ method: 'POST', url: `/api/public/rooms/${roomId}/join`, payload: { userId }, remoteAddress: ip })
}

export async function restLeave (app: FastifyInstance, roomId: string, userId: string, ip = HERE) {
  return await app.inject({ method: 'POST', url: `/api/public/rooms/${roomId}/leave`, payload: { userId }, remoteAddress: ip })
}

export async function occupancy (app: FastifyInstance, roomId: string): Promise<number> {
  const res = await app.inject(`/api/public/rooms/${roomId}`)
  if (res.statusCode !== 200) throw new Error(`get room: ${res.statusCode} ${res.body}`)
  return res.json().currentOccupancy
}

/**
 * A client written from seed 000's usage example: answers `ping` with `pong` (unless told
 * not to) and records every event it receives, in order.
 */
export class SeedClient {
  readonly socket: Socket
  readonly received: Received[] = []
  answerPings = true
  pings = 0
  private readonly waiters = new Set<() => void>()

  constructor (t: Test, url: string, roomId: string, options: { ip?: string } = {}) {
    // localAddress reaches the ws transport (Node) though the client's types do not list it.
    const local = (options.ip ? { localAddress: options.ip } : {}) as Partial<ManagerOptions & SocketOptions>
    this.socket = connect(t, `${url}/public-room/${roomId}`, local)
    this.socket.on('ping', () => {
      this.pings++
      if (this.answerPings) this.socket.emit('pong')
    })
    this.socket.onAny((event: string, data: unknown) => { this.record(event, data) })
    this.socket.on('disconnect', (reason) => { this.record('disconnect', reason) })
  }

  private record (event: string, data: unknown): void {
    this.received.push({ event, data })
    for (const wake of [...this.waiters]) wake()
  }

  /** Events of one name received so far. */
  all (event: string): any[] {
    return this.received.filter((r) => r.event === event).map((r) => r.data)
  }

  /**
   * The first `event` (matching `match`) received after index `from` of the log (default: the
   * log's current end), waiting for it if need be.
   */
  next (event: string, match: (data: any) => boolean = () => true, options: { from?: number, ms?: number } = {}): Promise<any> {
    const from = options.from ?? this.received.length
    const find = () => this.received.slice(from).find((r) => r.event === event && match(r.data))
    return new Promise((resolve, reject) => {
      const found = find()
      if (found) return resolve(found.data)
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`timed out waiting for "${event}"; got ${JSON.stringify(this.received.slice(from).map((r) => r.event))}`))
      }, options.ms ?? 5_000)
      timer.unref()
      const check = () => {
        const hit = find()
        if (!hit) return
        clearTimeout(timer)
        this.waiters.delete(check)
        resolve(hit.data)
      }
      this.waiters.add(check)
    })
  }

  /** `join-room` as the seed's client sends it, resolving to the ack. */
  async join (user: PublicUser): Promise<any> {
    return await this.socket.timeout(5_000).emitWithAck('join-room', { userId: user.userId, userName: user.userName })
  }

  async leave (userId: string): Promise<any> {
    return await this.socket.timeout(5_000).emitWithAck('leave-room', { userId })
  }

  /** 'joined', or the code of the first error (a refused connection never acks). */
  async joinOrRefusal (user: PublicUser): Promise<string> {
    const refused = this.next('error', () => true, { from: 0 }).then((e) => e.code as string)
    refused.catch(() => {})
    return await Promise.race([
      refused,
      this.join(user).then((ack) => ack.ok === true ? 'joined' : ack.error.code as string)
    ])
  }
}

/** Resolves after the server has sent everything sent so far to this client: a marker broadcast. */
export async function flush (app: FastifyInstance, roomId: string, clients: SeedClient[]): Promise<void> {
  const marker = Math.random()
  const seen = clients.map(async (c) => await c.next('flush-marker', (m) => m === marker))
  app.broadcastToPublicRoom(roomId, 'flush-marker', marker)
  await Promise.all(seen)
}
