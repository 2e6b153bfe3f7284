import type { FastifyInstance } from 'fastify'
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client'
import { connect, connected, freshPostgresUrl, registerUser, sharedPglite, type Mode } from '../helper.js'
import { createDatabase, type Db } from '../../src/db/index.js'
import type { Chat, ChatLifecycleEventMap as ChatEventMap } from '../../src/chat/service.js'
import { chatOf } from '../../plugins/chat.js'

type Test = Parameters<typeof connect>[0]

/** The code room a flush leaves: its `left_room` is not recorded. */
const FLUSH_CODE = 'FLUSH-BARRIER'

export interface Received { event: string, data: any }
export interface TestUser { token: string, user: { id: string, username: string, displayName: string } }

/** A registered user (display name given, username random unless given). */
export async function newUser (app: FastifyInstance, displayName: string, username?: string): Promise<TestUser> {
  return await registerUser(app, username, displayName)
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Seed 001's REST setup: the owner creates a group and adds the others. */
export async function createGroup (app: FastifyInstance, owner: TestUser, members: TestUser[] = [], name = 'Room Test Group'): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/groups',
    headers: bearer(owner.token),
    payload: { name, description: 'Test group for Socket.IO room functionality', isPrivate: false }
  })
  if (res.statusCode !== 201) throw new Error(`create group: ${res.statusCode} ${res.body}`)
  const groupId = res.json().group.id as string
  for (const m of members) {
    const add = await app.inject({
      method: 'POST', url: `/api/groups/${groupId}/members`, headers: bearer(owner.token), payload: { userId: m.user.id, role: 'MEMBER' }
    })
    if (add.statusCode !== 201) throw new Error(`add member: ${add.statusCode} ${add.body}`)
  }
  return groupId
}

/** The database the test apps of this file use (the same PGlite, or the same PostgreSQL database). */
export async function testDb (t: Test, mode: Mode): Promise<Db> {
  if (mode === 'embedded') return (await sharedPglite()).db
  const database = await createDatabase({ databaseUrl: await freshPostgresUrl(), dataDir: 'memory' })
  t.teardown(() => database.close())
  return database.db
}

/** The chat core of an app (it lives in roomwire's encapsulated context). */
export function chat (app: FastifyInstance): Chat {
  const core = chatOf(app.io)
  if (!core) throw new Error('no chat core on this app')
  return core
}

/** Seed 004's server side: a channel made through the chat core. */
export async function createChannel (app: FastifyInstance, name = 'chat-general', namespace = 'chat'): Promise<string> {
  return (await chat(app).createRoom({ kind: 'channel', name, namespace })).id
}

/** The next occurrence of a chat-core event on this instance. */
export function coreEvent<K extends keyof ChatEventMap> (app: FastifyInstance, event: K, match: (e: ChatEventMap[K]) => boolean = () => true, ms = 5_000): Promise<ChatEventMap[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`timed out waiting for core event ${event}`)) }, ms)
    const off = chat(app).on(event, (e) => {
      if (!match(e)) return
      clearTimeout(timer)
      off()
      resolve(e)
    })
  })
}

/**
 * A client of `/` that records every event it receives, in order, so tests can wait for one
 * and later assert on what did (or did not) arrive.
 */
export class ChatClient {
  readonly socket: Socket
  readonly received: Received[] = []
  private readonly waiters = new Set<() => void>()
  private readonly cursors = new Map<string, number>()

  constructor (t: Test, url: string, token: string | null, options: Partial<ManagerOptions & SocketOptions> = {}) {
    this.socket = connect(t, url, token === null ? options : { auth: { token }, ...options })
    this.socket.onAny((event: string, ...args: unknown[]) => { this.record(event, args[0]) })
    this.socket.on('disconnect', (reason) => { this.record('disconnect', reason) })
  }

  static async open (t: Test, url: string, token: string, options: Partial<ManagerOptions & SocketOptions> = {}): Promise<ChatClient> {
    const client = new ChatClient(t, url, token, options)
    await connected(client.socket)
    return client
  }

  get id (): string { return this.socket.id! }

  private record (event: string, data: unknown): void {
    if (event === 'left_room' && data === FLUSH_CODE) return
    this.received.push({ event, data })
    for (const wake of [...this.waiters]) wake()
  }

  all (event: string): any[] {
    return this.received.filter(r => r.event === event).map(r => r.data)
  }

  count (event: string): number {
    return this.all(event).length
  }

  /**
   * The next `event` matching `match` that no earlier `next` returned: each event name has a
   * cursor just past the last one returned, so an event that arrived before the call is found.
   * `from` (an index of the log) starts the search elsewhere.
   */
  next (event: string, match: (data: any) => boolean = () => true, from?: number, ms = 5_000): Promise<any> {
    const start = from ?? this.cursors.get(event) ?? 0
    return new Promise((resolve, reject) => {
      const check = () => {
        const offset = this.received.slice(start).findIndex(r => r.event === event && match(r.data))
        if (offset < 0) return false
        this.waiters.delete(check)
        clearTimeout(timer)
        this.cursors.set(event, start + offset + 1)
        resolve(this.received[start + offset].data)
        return true
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`timed out waiting for "${event}"; got ${this.received.slice(start).map(r => r.event).join(', ') || 'nothing'}`))
      }, ms)
      if (!check()) this.waiters.add(check)
    })
  }

  /** The log's current end, to look only at what comes next. */
  mark (): number {
    return this.received.length
  }

  /** Waits until `n` events of this name have been received in all. */
  async until (event: string, n: number, ms = 10_000): Promise<any[]> {
    const deadline = Date.now() + ms
    while (this.count(event) < n) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${n} "${event}" (have ${this.count(event)})`)
      await new Promise<void>((resolve) => {
        const wake = () => { this.waiters.delete(wake); clearTimeout(timer); resolve() }
        const timer = setTimeout(wake, left)
        this.waiters.add(wake)
      })
    }
    return this.all(event)
  }

  emit (event: string, ...args: unknown[]): void {
    this.socket.emit(event, ...args)
  }

  /** Emits with an ack and resolves with the server's reply. */
  async ack (event: string, ...args: unknown[]): Promise<any> {
    return await this.socket.timeout(5_000).emitWithAck(event, ...args)
  }

  close (): void {
    this.socket.disconnect()
  }
}

/**
 * Resolves once the client has received everything the server sent it before this call: the
 * ack of a leave follows its `left_room`, which the adapter delivers after every earlier event.
 */
export async function flush (client: ChatClient): Promise<void> {
  const reply = await client.ack('leave_room', FLUSH_CODE)
  if (reply?.ok !== true) throw new Error(`unexpected flush reply ${JSON.stringify(reply)}`)
}

/** Waits until a broadcast from `from` reaches a socket of `to` through the adapter (readers started). */
export async function crossReady (from: FastifyInstance, to: ChatClient, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  let n = 0
  while (Date.now() < deadline) {
    const probe = `probe-${n++}`
    const seen = to.next('adapter:probe', (d) => d === probe, to.mark(), 100).then(() => true, () => false)
    from.io.of('/').to(to.id).emit('adapter:probe', probe)
    if (await seen) return
  }
  throw new Error('the adapter never delivered across instances')
}
