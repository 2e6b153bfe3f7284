import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import type { FastifyInstance } from 'fastify'
import type { Server, ServerOptions } from 'socket.io'
import { io as ioClient, type Socket } from 'socket.io-client'
import { Redis } from 'ioredis'
import { buildApp } from '../src/app.js'
import type { Store } from '../src/store/types.js'
import { namespacesOf } from '../src/socket/workarounds.js'

/**
 * Soak (issue #10): thousands of connect → join → send → leave → disconnect cycles across the
 * three namespaces against an app running in this process, then checks, rather than assumes,
 * that nothing stayed behind: the heap is back near its baseline, the store holds no presence,
 * typing, slot or per-socket keys, and the process holds the same timers and handles as before.
 * `npm run soak` runs it; test/hardening/soak.test.ts runs a short form of the same code.
 */

export type SoakMode = 'embedded' | 'services'

export interface SoakOptions {
  /** Measured cycles (each one: a public room, a sync room and the three chat vocabularies). */
  cycles?: number
  mode?: SoakMode
  /** Cycles running at once, each with its own users. */
  concurrency?: number
  /** Cycles before the baseline is taken (default cycles / 10, at least 20). */
  warmup?: number
  /** Services mode: PostgreSQL and Redis (default DATABASE_URL, REDIS_URL). */
  databaseUrl?: string
  redisUrl?: string
  /** Services mode: the app's key prefix (default `soak:{random}:`, its keys deleted at the end). */
  redisKeyPrefix?: string
  /** How far above the baseline the heap may end (bytes; default 1.5 MiB + 1 KiB a cycle). */
  heapSlackBytes?: number
  /** How long the server may take to finish cleaning up after the last cycle (ms). */
  settleMs?: number
  /** Progress lines and the summary. */
  log?: (line: string) => void
  /** A progress line every this many cycles (default cycles / 10). */
  progressEvery?: number
  /** Write V8 heap snapshots at the baseline and after the cycles into this directory (to find a leak). */
  heapSnapshotDir?: string
  /** Extra Socket.IO server options for the app (the soak's test swaps the adapter). */
  socketIo?: Partial<ServerOptions>
}

export type ResourceCounts = Record<string, number>

export interface SoakReport {
  mode: SoakMode
  cycles: number
  warmup: number
  concurrency: number
  seconds: number
  /** Acks that were not a success, by event and code (none expected). */
  errors: Record<string, number>
  /** Heap objects (heapUsed without compiled code) after a full GC, in bytes. */
  heap: { baseline: number, after: number, limit: number }
  /** Socket.IO's connection-state-recovery buffers (kept 2 min by design), cleared before each heap reading. */
  recoveryBuffer: { packets: number, sessions: number }
  /** Store keys under the prefix after the cycles: the forbidden ones, and all of them. */
  keys: { forbidden: string[], all: string[] }
  resources: { beforeApp: ResourceCounts, beforeCycles: ResourceCounts, afterCycles: ResourceCounts, afterClose: ResourceCounts }
  /** Every check that failed, in words; empty when the soak passed. */
  failures: string[]
}

/** Keys that only exist while a socket is connected, a user is typing or a slot is held. */
const FORBIDDEN: Array<[string, RegExp]> = [
  ['presence', /^(room:.+:users|user:.+:(rooms|sockets)(:.+)?|socket:.+|instance:.+:sockets|online:users)$/],
  ['typing', /^typing:/],
  ['slots', /^(slots:.+|instance:.+:slots)$/],
  ['sync seats', /^(room:.+:(online|sockets|participants)|sync:instance:.+:sockets)$/],
  ['service api sockets', /^realtime:(sockets|activity|kick:.+)$/]
]

function forbiddenKind (key: string): string | null {
  for (const [kind, pattern] of FORBIDDEN) if (pattern.test(key)) return kind
  return null
}

/** Keys counted by shape: ids (UUIDs, hex, Socket.IO ids) replaced by `*`. */
function shapes (keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const key of keys) {
    const shape = key.split(':').map((part) => /^[0-9a-f-]{32,}$|^[A-Za-z0-9_-]{20}$/.test(part) ? '*' : part).join(':')
    counts[shape] = (counts[shape] ?? 0) + 1
  }
  return counts
}

/** Active handles and requests by type, as `process.getActiveResourcesInfo()` lists them. */
export function resourceCounts (): ResourceCounts {
  const counts: ResourceCounts = {}
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1
  return counts
}

const sameCounts = (a: ResourceCounts, b: ResourceCounts) =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].every((k) => (a[k] ?? 0) === (b[k] ?? 0))
const withinCounts = (a: ResourceCounts, limit: ResourceCounts) => Object.keys(a).every((k) => a[k] <= (limit[k] ?? 0))
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

let gcFunction: (() => void) | undefined
function collect (): void {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc')
    gcFunction = runInNewContext('gc') as () => void
  }
  gcFunction()
}

/**
 * The heap's objects after a full GC, in bytes: heapUsed without the code spaces, since the
 * optimising compiler keeps adding machine code for hot paths long after a warm-up, which is
 * not state (a heap snapshot diff of a clean run shows only code growing).
 */
async function heapAfterGc (): Promise<number> {
  // A few rounds: finalizers and weak maps free more on the next pass.
  for (let i = 0; i < 4; i++) {
    collect()
    await sleep(20)
  }
  return getHeapSpaceStatistics()
    .filter((space) => !space.space_name.startsWith('code_'))
    .reduce((n, space) => n + space.space_used_size, 0)
}

/** The encapsulated context roomwire registers its plugins in (where `store` and `sql` live). */
function innerContext (app: FastifyInstance): FastifyInstance {
  const kChildren = Object.getOwnPropertySymbols(app).find((s) => s.description === 'fastify.children')
  const walk = (instance: FastifyInstance): FastifyInstance | null => {
    if (instance.hasDecorator('store') && instance.hasDecorator('sql')) return instance
    for (const child of kChildren ? (instance as unknown as Record<symbol, FastifyInstance[]>)[kChildren] ?? [] : []) {
      const found = walk(child)
      if (found) return found
    }
    return null
  }
  const found = walk(app)
  if (!found) throw new Error('the roomwire context was not found')
  return found
}

/** Polls `check` every 25 ms until it is true or `ms` ran out; returns its last answer. */
async function until (check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) return false
    await sleep(25)
  }
  return true
}

interface Worker {
  token: string
  userId: string
  publicUser: { userId: string, userName: string }
}

interface Fixture {
  url: string
  publicRoomId: string
  syncRoomCode: string
  groupId: string
  channelId: string
  codeRoom: string
  workers: Worker[]
}

async function rest<T = any> (app: FastifyInstance, method: 'GET' | 'POST', url: string, payload?: object, token?: string): Promise<T> {
  const res = await app.inject({ method, url, ...(payload ? { payload } : {}), headers: token ? { authorization: `Bearer ${token}` } : {} })
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`)
  return res.json() as T
}

async function setUp (app: FastifyInstance, url: string, concurrency: number): Promise<Fixture> {
  const workers: Worker[] = []
  for (let i = 0; i < concurrency; i++) {
    const { token, user } = await rest(app, 'POST', '/api/auth/register', {
      username: `soak${i}_${randomBytes(3).toString('hex')}`, password: 'correct horse battery', displayName: `Soak ${i}`
    })
    const publicUser = await rest(app, 'POST', '/api/public/users', { userName: `Soak ${i}` })
    workers.push({ token, userId: user.id, publicUser })
  }
  const owner = workers[0]
  const publicRoom = await rest(app, 'POST', '/api/public/rooms', { name: 'Soak hall', capacity: 1000 }, owner.token)
  const syncRoom = await rest(app, 'POST', '/api/sync/rooms', { name: 'Soak night', maxParticipants: 100 }, owner.token)
  const { group } = await rest(app, 'POST', '/api/groups', { name: 'Soak group' }, owner.token)
  for (const w of workers.slice(1)) await rest(app, 'POST', `/api/groups/${group.id}/members`, { userId: w.userId }, owner.token)
  const { channel } = await rest(app, 'POST', '/api/channels', { name: 'soak' }, owner.token)
  return { url, publicRoomId: publicRoom.id, syncRoomCode: syncRoom.code, groupId: group.id, channelId: channel.id, codeRoom: 'SOAK', workers }
}

function open (url: string, options: object = {}): Promise<Socket> {
  const socket = ioClient(url, { transports: ['websocket'], forceNew: true, reconnection: false, ...options })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.disconnect(); reject(new Error(`timed out connecting to ${url}`)) }, 10_000)
    socket.once('connect', () => { clearTimeout(timer); resolve(socket) })
    socket.once('connect_error', (err) => { clearTimeout(timer); socket.disconnect(); reject(err) })
  })
}

function closed (socket: Socket): Promise<void> {
  if (socket.disconnected) return Promise.resolve()
  return new Promise((resolve) => { socket.once('disconnect', () => { resolve() }) })
}

/**
 * One cycle of one worker. Each namespace is left a different way in turn: explicitly, by a
 * client disconnect, or (sync) by losing the transport, which keeps the seat for the grace.
 */
async function cycle (f: Fixture, w: Worker, n: number, errors: Record<string, number>): Promise<void> {
  const sockets: Socket[] = []
  const call = async (socket: Socket, event: string, ...args: unknown[]) => {
    let reply: any
    try {
      reply = await socket.timeout(10_000).emitWithAck(event, ...args)
    } catch (err) {
      reply = { ok: false, error: { code: (err as Error).message } }
    }
    if (reply !== null && typeof reply === 'object' && reply.ok === false) {
      const key = `${event} ${reply.error?.code}`
      errors[key] = (errors[key] ?? 0) + 1
    }
    return reply
  }
  try {
    // Public room (seed 000): join-room, then leave-room (the server disconnects) or a disconnect.
    const pub = await open(`${f.url}/public-room/${f.publicRoomId}`)
    sockets.push(pub)
    pub.on('ping', () => { pub.emit('pong') })
    await call(pub, 'join-room', { userId: w.publicUser.userId, userName: w.publicUser.userName })
    if (n % 2 === 0) {
      const gone = closed(pub)
      await call(pub, 'leave-room', { userId: w.publicUser.userId })
      await gone
    } else {
      pub.disconnect()
    }

    // Sync (seed 002): a registered user or a guest joins, moves the playback, leaves.
    const registered = n % 3 === 0
    const sync = await open(`${f.url}/sync`, registered ? { auth: { token: w.token } } : {})
    sockets.push(sync)
    await call(sync, 'room:join', registered ? { roomCode: f.syncRoomCode } : { roomCode: f.syncRoomCode, guestName: `Guest ${n}` })
    await call(sync, 'playback:update', { action: 'seek', position: n })
    await call(sync, 'sync:time', { clientTime: Date.now() })
    if (n % 4 === 0) {
      await call(sync, 'room:leave', {})
      sync.disconnect()
    } else if (n % 4 === 1) {
      // The transport goes: the seat waits out SYNC_RECONNECT_GRACE_MS.
      const gone = closed(sync)
      sync.io.engine.close()
      await gone
    } else {
      sync.disconnect()
    }

    // Chat on `/`: a group (001), a code room (003) and a channel (004) on one socket.
    const chat = await open(f.url, { auth: { token: w.token } })
    sockets.push(chat)
    await call(chat, 'join_group', f.groupId)
    await call(chat, 'typing_start', { groupId: f.groupId })
    await call(chat, 'send_message', { groupId: f.groupId, content: `soak ${n}`, clientMessageId: `${w.userId}-${n}` })
    await call(chat, 'join_room', f.codeRoom)
    await call(chat, 'typing_start', { room: f.codeRoom })
    await call(chat, 'send_message', { room: f.codeRoom, content: `soak ${n}` })
    await call(chat, 'room:join', { roomId: f.channelId })
    await call(chat, 'typing', { roomId: f.channelId, isTyping: true })
    await call(chat, 'message', { roomId: f.channelId, content: `soak ${n}`, type: 'text' })
    await call(chat, 'get_room_info', { groupId: f.groupId })
    if (n % 2 === 0) {
      // Everything stopped and left by hand.
      await call(chat, 'typing_stop', { groupId: f.groupId })
      await call(chat, 'typing_stop', { room: f.codeRoom })
      await call(chat, 'typing', { roomId: f.channelId, isTyping: false })
      await call(chat, 'leave_group', f.groupId)
      await call(chat, 'leave_room', f.codeRoom)
      await call(chat, 'room:leave', { roomId: f.channelId })
    }
    // Otherwise the disconnect must clear the typing and the three rooms.
    chat.disconnect()
  } catch (err) {
    const key = `cycle ${(err as Error).message}`
    errors[key] = (errors[key] ?? 0) + 1
  } finally {
    for (const socket of sockets) {
      socket.removeAllListeners()
      socket.disconnect()
    }
  }
}

/** Cycles `from` … `from + total - 1` (a cycle's number makes its message ids unique). */
async function runCycles (f: Fixture, from: number, total: number, errors: Record<string, number>, progress?: (done: number) => void): Promise<void> {
  let next = 0
  let done = 0
  await Promise.all(f.workers.map(async (w) => {
    while (next < total) {
      const n = from + next++
      await cycle(f, w, n, errors)
      done++
      progress?.(done)
    }
  }))
}

/** Socket.IO's in-memory recovery buffers: every packet and dropped session, kept 2 minutes. */
function recoveryBuffers (io: Server): { packets: number, sessions: number, clear: () => void } {
  const adapters = namespacesOf(io)
    .map((nsp) => nsp.adapter as unknown as { packets?: unknown[], sessions?: Map<string, unknown> })
  return {
    packets: adapters.reduce((n, a) => n + (a.packets?.length ?? 0), 0),
    sessions: adapters.reduce((n, a) => n + (a.sessions?.size ?? 0), 0),
    clear () {
      for (const a of adapters) {
        if (a.packets) a.packets.length = 0
        a.sessions?.clear()
      }
    }
  }
}

async function deletePrefix (redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl)
  try {
    let cursor = '0'
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000)
      if (keys.length > 0) await redis.del(...keys)
      cursor = nextCursor
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

export async function runSoak (options: SoakOptions = {}): Promise<SoakReport> {
  const mode: SoakMode = options.mode ?? (process.env.DATABASE_URL && process.env.REDIS_URL ? 'services' : 'embedded')
  const cycles = options.cycles ?? 2000
  const concurrency = options.concurrency ?? 8
  const warmup = options.warmup ?? Math.max(20, Math.round(cycles / 10))
  // 1.5 MiB for the optimiser's own bookkeeping (it keeps growing a little after any warm-up),
  // then 1 KiB a cycle: one leaked socket (tens of KiB) a cycle breaks it within a few hundred.
  const heapSlackBytes = options.heapSlackBytes ?? 1536 * 1024 + 1024 * cycles
  const settleMs = options.settleMs ?? 10_000
  const log = options.log ?? (() => {})
  const progressEvery = options.progressEvery ?? Math.max(1, Math.round(cycles / 10))
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL
  const prefix = options.redisKeyPrefix ?? `soak:${randomBytes(4).toString('hex')}:`
  if (mode === 'services' && (!databaseUrl || !redisUrl)) throw new Error('services mode needs DATABASE_URL and REDIS_URL')

  const failures: string[] = []
  const errors: Record<string, number> = {}
  // The stdio streams are made on first use (a library may reach for stderr): they are the
  // process's, not the app's, so they exist before the first count.
  for (const stream of [process.stdout, process.stderr]) if (!stream.writable) failures.push('stdio is closed')
  const beforeApp = resourceCounts()
  const env: NodeJS.ProcessEnv = {
    JWT_SECRET: randomBytes(24).toString('hex'),
    IP_HASH_SECRET: randomBytes(24).toString('hex'),
    LOG_LEVEL: 'silent',
    PUBLIC_MAX_CONNECTIONS_PER_IP: '1000',
    CHAT_MESSAGES_PER_MINUTE: '1000000',
    REST_RATE_LIMIT_MAX: '1000000',
    AUTH_RATE_LIMIT_MAX: '1000000',
    // Seats in grace end fast; a typing indicator left behind would outlive the settle time.
    SYNC_RECONNECT_GRACE_MS: '1000',
    TYPING_TTL_MS: String(Math.max(60_000, settleMs * 3)),
    ...(mode === 'services'
      ? { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix }
      : { DATA_DIR: 'memory' })
  }
  const app = await buildApp({ env, ...(options.socketIo ? { socketIo: options.socketIo } : {}) })
  let closedApp = false
  const started = Date.now()
  try {
    await app.listen({ port: 0, host: '127.0.0.1' })
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const inner = innerContext(app)
    const store = inner.store as Store
    const io = app.io
    const pool = (inner.sql.db as unknown as { $client?: { totalCount?: number } }).$client
    // PostgreSQL pool clients live until they have been idle 10 s: count handles without them.
    const poolDrained = async () => await until(() => (pool?.totalCount ?? 0) === 0, 15_000)
    log(`[soak] ${mode} mode: ${cycles} cycles (${warmup} warm-up), ${concurrency} at once, on ${url}`)

    const fixture = await setUp(app, url, concurrency)
    const quiet = async () => {
      const gone = await until(() => io.engine.clientsCount === 0, settleMs)
      const keysGone = await until(async () => (await store.scan('*')).every((k) => forbiddenKind(k) === null), settleMs)
      return gone && keysGone
    }

    await runCycles(fixture, 0, warmup, errors)
    await quiet()
    if (mode === 'services') await poolDrained()
    const beforeCycles = resourceCounts()
    recoveryBuffers(io).clear()
    const baseline = await heapAfterGc()
    if (options.heapSnapshotDir) log(`[soak] heap snapshot ${writeHeapSnapshot(join(options.heapSnapshotDir, 'soak-baseline.heapsnapshot'))}`)
    log(`[soak] baseline after warm-up: heap objects ${mb(baseline)}, handles ${JSON.stringify(beforeCycles)}`)

    const measuredFrom = Date.now()
    await runCycles(fixture, warmup, cycles, errors, (done) => {
      if (done % progressEvery !== 0 && done !== cycles) return
      const seconds = (Date.now() - measuredFrom) / 1000
      log(`[soak] ${done}/${cycles} cycles, ${seconds.toFixed(1)} s, ${(done / seconds).toFixed(0)}/s, heap used ${mb(process.memoryUsage().heapUsed)}, server sockets ${io.engine.clientsCount}`)
    })

    // Everything disconnected: the server must get back to nothing held per connection.
    if (!(await quiet())) failures.push(`the server still held connections or keys ${settleMs} ms after the last cycle`)
    const all = (await store.scan('*')).sort()
    const forbidden = all.filter((k) => forbiddenKind(k) !== null).map((k) => `${k} (${forbiddenKind(k)})`)
    if (forbidden.length > 0) failures.push(`keys left under the prefix: ${forbidden.slice(0, 20).join(', ')}${forbidden.length > 20 ? ', ...' : ''}`)

    if (mode === 'services') await poolDrained()
    let afterCycles = resourceCounts()
    if (!sameCounts(afterCycles, beforeCycles)) {
      await until(() => sameCounts((afterCycles = resourceCounts()), beforeCycles), settleMs)
    }
    if (!sameCounts(afterCycles, beforeCycles)) {
      failures.push(`handles after the cycles ${JSON.stringify(afterCycles)} differ from before ${JSON.stringify(beforeCycles)}`)
    }

    const buffers = recoveryBuffers(io)
    const recoveryBuffer = { packets: buffers.packets, sessions: buffers.sessions }
    buffers.clear()
    const after = await heapAfterGc()
    if (options.heapSnapshotDir) log(`[soak] heap snapshot ${writeHeapSnapshot(join(options.heapSnapshotDir, 'soak-after.heapsnapshot'))}`)
    const limit = baseline + heapSlackBytes
    if (after > limit) failures.push(`heap ${mb(after)} after the cycles exceeds the baseline ${mb(baseline)} + ${mb(heapSlackBytes)}`)
    const errorCount = Object.values(errors).reduce((a, b) => a + b, 0)
    if (errorCount > 0) failures.push(`${errorCount} failed acks or cycles: ${JSON.stringify(errors)}`)
    const seconds = (Date.now() - measuredFrom) / 1000

    await app.close()
    closedApp = true
    let afterClose = resourceCounts()
    await until(() => withinCounts((afterClose = resourceCounts()), beforeApp), settleMs)
    if (!withinCounts(afterClose, beforeApp)) {
      failures.push(`handles after close ${JSON.stringify(afterClose)} exceed those before the app ${JSON.stringify(beforeApp)}`)
    }

    const report: SoakReport = {
      mode,
      cycles,
      warmup,
      concurrency,
      seconds,
      errors,
      heap: { baseline, after, limit },
      recoveryBuffer,
      keys: { forbidden, all },
      resources: { beforeApp, beforeCycles, afterCycles, afterClose },
      failures
    }
    log(`[soak] ${cycles} cycles in ${seconds.toFixed(1)} s (${(cycles / seconds).toFixed(0)}/s), setup and checks ${((Date.now() - started) / 1000 - seconds).toFixed(1)} s`)
    log(`[soak] heap objects after GC (without compiled code): baseline ${mb(baseline)}, after ${mb(after)}, limit ${mb(limit)} (Socket.IO recovery buffer cleared first: ${recoveryBuffer.packets} packets, ${recoveryBuffer.sessions} sessions)`)
    log(`[soak] store keys left: ${all.length}, ${forbidden.length} of them presence/typing/slot/seat keys; by shape ${JSON.stringify(shapes(all))}`)
    log(`[soak] handles before app ${JSON.stringify(beforeApp)}, before cycles ${JSON.stringify(beforeCycles)}, after cycles ${JSON.stringify(afterCycles)}, after close ${JSON.stringify(afterClose)}`)
    log(failures.length === 0 ? '[soak] PASS' : `[soak] FAIL\n  ${failures.join('\n  ')}`)
    return report
  } finally {
    if (!closedApp) await app.close()
    if (mode === 'services' && options.redisKeyPrefix === undefined) await deletePrefix(redisUrl!, prefix)
  }
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      cycles: { type: 'string' },
      mode: { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean' }
    }
  })
  if (values.help) {
    console.log('npm run soak -- [--cycles N] [--mode embedded|services] [--concurrency N]\n' +
      'services mode (the default when DATABASE_URL and REDIS_URL are set) writes test users, rooms\n' +
      'and messages to DATABASE_URL and uses a fresh Redis prefix, deleted at the end.')
    return
  }
  const count = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined
    const n = Number(value)
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`)
    return n
  }
  if (values.mode !== undefined && values.mode !== 'embedded' && values.mode !== 'services') throw new Error('--mode must be embedded or services')
  const report = await runSoak({
    cycles: count(values.cycles, 'cycles'),
    concurrency: count(values.concurrency, 'concurrency'),
    mode: values.mode as SoakMode | undefined,
    log: (line) => { console.log(line) }
  })
  process.exitCode = report.failures.length === 0 ? 0 : 1
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
