import t from 'tap'
import fc from 'fast-check'
import type { Socket } from 'socket.io-client'
import { buildTestApp, connect, connected, modes, once, registerUser, servicesSkipReason } from '../helper.js'
import { CHAT_ERROR_CODES } from '../../src/contract/chat.js'
import { Compile } from 'typebox/compile'
import type { TSchema } from 'typebox'
import { JoinRoomPayload, LeaveRoomPayload, PublicRoomErrorCode } from '../../src/contract/public-rooms.js'
import {
  ChannelMessagePayload, ChannelRefPayload, ChannelTypingPayload, CodeRefPayload, GroupIdPayload, GroupRefPayload,
  SendMessagePayload, TypingPayload
} from '../../src/contract/chat.js'
import {
  JoinRoomPayloadSchema, LeaveRoomPayloadSchema, PlaybackUpdatePayloadSchema, SyncTimePayloadSchema
} from '../../src/contract/sync.js'
import type { Store } from '../../src/store/types.js'
import { createRoom as createPublicRoom, createUser as createPublicUser } from '../public-rooms/fixtures.js'
import { createRoom as createSyncRoom, inner } from '../sync/fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

const NUM_RUNS = 30
let lastEmit = ''
/** A valid `leave-room` (seed 000) succeeds and then disconnects the socket, by design. */
const validLeave = Compile(LeaveRoomPayload)
let dropExpected = false

/** Every client → server event of every namespace (docs/events.md, src/contract/*.ts), with its error codes. */
const SYNC_ERROR_CODES = ['ROOM_NOT_FOUND', 'ROOM_FULL', 'INVALID_PASSWORD', 'UNAUTHORIZED', 'ALREADY_IN_ROOM',
  'NOT_IN_ROOM', 'INVALID_TOKEN', 'INTERNAL_ERROR', 'INVALID_REQUEST', 'RATE_LIMITED', 'BANNED', 'FORBIDDEN']
const namespaces = {
  chat: {
    events: ['join_group', 'leave_group', 'get_room_info', 'send_message', 'typing_start', 'typing_stop',
      'join_room', 'leave_room', 'room:join', 'room:leave', 'message', 'typing',
      'mark_read', 'kick', 'ban', 'mute', 'unban', 'unmute',
      'edit_message', 'delete_message', 'react', 'unreact'],
    codes: [...CHAT_ERROR_CODES] as string[]
  },
  sync: { events: ['room:join', 'room:leave', 'playback:update', 'sync:time', 'room:kick'], codes: SYNC_ERROR_CODES },
  public: { events: ['join-room', 'leave-room', 'pong'], codes: Object.values(PublicRoomErrorCode) as string[] }
}
/** Codes that only an unexpected failure (a bug) produces: never acceptable for input. */
const UNEXPECTED = new Set(['INTERNAL_ERROR', 'JOIN_ERROR', 'LEAVE_ERROR', 'CONNECTION_ERROR'])

const FIELDS = ['userId', 'userName', 'roomCode', 'password', 'guestName', 'resumeToken', 'action', 'position', 'rate',
  'mediaUrl', 'clientTime', 'groupId', 'content', 'type', 'replyToId', 'clientMessageId', 'room', 'messageType',
  'roomId', 'isTyping', 'seq', 'until', 'reason', 'participantId', 'messageId', 'emoji']

function nest (depth: number, leaf: unknown): unknown {
  let value = leaf
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value]
  return value
}

/** Hostile payloads: anything, wrong types, known fields with wrong or missing values, extra keys, huge, deep, prototype keys, binary. */
const value = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.string({ maxLength: 4096 }),
  fc.constantFrom('', ' ', '\u0000', 'x'.repeat(4000), '<script>alert(1)</script>', 'NaN', '{}', '[]'),
  fc.double(),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
  fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a))
)
const payload = fc.oneof(
  value,
  fc.dictionary(fc.constantFrom(...FIELDS, 'extra', '__proto__', 'constructor', 'prototype'), value, { maxKeys: 8 }),
  fc.tuple(fc.integer({ min: 1, max: 300 }), value).map(([depth, leaf]) => nest(depth, leaf)),
  fc.tuple(fc.constantFrom('__proto__', 'constructor'), fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })))
    .map(([key, inner]) => JSON.parse(`{"${key}": ${JSON.stringify(inner)}, "roomId": "x", "groupId": "x", "room": "x"}`)),
  fc.uint8Array({ maxLength: 2048 }).map((a) => ({ content: Buffer.from(a), room: Buffer.from(a), userId: Buffer.from(a) }))
)
/** Frames stay under WS_MAX_PAYLOAD (64 KiB): a bigger one drops its sender by design (abuse.test.ts). */
function fitsFrame (list: unknown[]): boolean {
  const size = JSON.stringify(list, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') return 'x'.repeat((v as { data: unknown[] }).data.length)
    return v
  })?.length ?? 0
  return size < 48_000
}
const args = fc.array(payload, { maxLength: 3 }).filter(fitsFrame)

/** What the server receives: Socket.IO encodes JSON (NaN and ±Infinity become null), binary apart. */
function asSent (v: unknown): unknown {
  const binary = (x: unknown): boolean => Buffer.isBuffer(x) || (x !== null && typeof x === 'object' && Object.values(x).some(binary))
  if (v === undefined || binary(v)) return v
  const text = JSON.stringify(v)
  return text === undefined ? undefined : JSON.parse(text)
}

/** socket.io-parser's default `maxAttachments`. */
const MAX_ATTACHMENTS = 10
function attachmentsOf (v: unknown): number {
  if (Buffer.isBuffer(v)) return 1
  if (v === null || typeof v !== 'object') return 0
  return Object.values(v).reduce((n: number, x) => n + attachmentsOf(x), 0)
}

type TestT = Pick<typeof t, 'pass'>

interface Tally { success: number, codes: Map<string, number>, bad: unknown[] }

async function fuzzEvent (t: TestT, socket: () => Promise<Socket>, event: string, codes: string[], tally: Tally) {
  await fc.assert(fc.asyncProperty(args, async (list) => {
    const s = await socket()
    lastEmit = `${event} ${JSON.stringify(list)?.slice(0, 300)}`
    // socket.io-parser refuses a packet of more than 10 binary attachments by closing that
    // connection (its own guard, maxAttachments): an expected drop, answered by no ack.
    const tooManyAttachments = attachmentsOf(list) > MAX_ATTACHMENTS
    dropExpected = (event === 'leave-room' && validLeave.Check(list[0])) || tooManyAttachments
    if (tooManyAttachments) {
      await s.timeout(5_000).emitWithAck(event, ...list).then(() => {}, () => {})
      return true
    }
    const reply = await s.timeout(5_000).emitWithAck(event, ...list)
    if (reply !== null && typeof reply === 'object' && (reply as { ok?: unknown }).ok === false) {
      const code = (reply as { error?: { code?: unknown, message?: unknown } }).error?.code
      const message = (reply as { error?: { message?: unknown } }).error?.message
      if (typeof code !== 'string' || typeof message !== 'string' || !codes.includes(code) || UNEXPECTED.has(code)) {
        tally.bad.push({ event, list, reply })
        return false
      }
      tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1)
    } else {
      tally.success++
    }
    return true
  }), { numRuns: NUM_RUNS, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) })
  t.pass(`${event}: every ack is a success or a contract error`)
}

/** A socket that reconnects if the server ever dropped it; counts the drops. */
function resilient (t: Parameters<typeof connect>[0], url: string, options: object, drops: { count: number, reasons: string[] }) {
  let current: Socket | null = null
  return async () => {
    if (current?.connected) return current
    if (current && !dropExpected) drops.count++
    current = connect(t, url, options)
    current.on('disconnect', (reason) => { if (!dropExpected) drops.reasons.push(`${url}: ${reason} after ${lastEmit}`) })
    await connected(current)
    return current
  }
}

// Payloads are under test here, not rates: the inbound budget (its own test) is out of the way.
const NO_BUDGET = { WS_EVENT_RATE: '1000000', WS_EVENT_BURST: '1000000' }

for (const mode of modes()) {
  t.test(`${mode}: every socket event survives arbitrary payloads`, async (t) => {
    const { app, url } = await buildTestApp(t, {
      mode, env: { ...NO_BUDGET, PUBLIC_MAX_CONNECTIONS_PER_IP: '20', CHAT_MESSAGES_PER_MINUTE: '100000', SYNC_PASSWORD_ATTEMPTS: '100000' }
    })
    const [mallory, alice, bob] = [await registerUser(app), await registerUser(app), await registerUser(app)]
    const publicRoom = await createPublicRoom(app)
    const syncRoom = await createSyncRoom(app, alice.token)
    // Bystanders: a normal client on each namespace, before and after the fuzzing.
    const observer = connect(t, url, { auth: { token: bob.token } })
    await connected(observer)
    const joined = once(observer, 'joined_room')
    observer.emit('join_room', 'CALM')
    await joined
    const sender = connect(t, url, { auth: { token: alice.token } })
    await connected(sender)
    const senderJoined = once(sender, 'joined_room')
    sender.emit('join_room', 'CALM')
    await senderJoined
    const heard: string[] = []
    observer.on('new_message', (m: { content: string }) => { heard.push(m.content) })

    const drops = { count: 0, reasons: [] as string[] }
    const sockets = {
      chat: resilient(t, url, { auth: { token: mallory.token } }, drops),
      sync: resilient(t, `${url}/sync`, { auth: { token: mallory.token } }, drops),
      public: resilient(t, `${url}/public-room/${publicRoom.id}`, {}, drops)
    }
    const tally: Tally = { success: 0, codes: new Map(), bad: [] }
    for (const [name, { events, codes }] of Object.entries(namespaces)) {
      for (const event of events) {
        await fuzzEvent(t, sockets[name as keyof typeof sockets], event, codes, tally)
        // Between events, the bystander still gets messages.
        const content = `after ${name} ${event}`
        const seen = new Promise<void>((resolve) => {
          const check = (m: { content: string }) => { if (m.content === content) { observer.off('new_message', check); resolve() } }
          observer.on('new_message', check)
        })
        const ack = await sender.timeout(5_000).emitWithAck('send_message', { content, room: 'CALM' })
        t.not(ack?.ok, false, `the bystander can send after ${event}`)
        await seen
      }
    }
    t.same(tally.bad, [], 'no ack outside the contract')
    t.ok((tally.codes.get('INVALID_REQUEST') ?? 0) > 0, 'bad payloads are answered INVALID_REQUEST')
    t.equal(drops.count, 0, 'no fuzzing socket was dropped by the server', { reasons: drops.reasons })
    t.equal(heard.length, Object.values(namespaces).reduce((n, ns) => n + ns.events.length, 0), 'the bystander heard every message')

    // Normal clients of the other namespaces still work.
    const syncGuest = connect(t, `${url}/sync`)
    await connected(syncGuest)
    const state = once(syncGuest, 'room:state')
    const syncAck = await syncGuest.timeout(5_000).emitWithAck('room:join', { roomCode: syncRoom.code, guestName: 'Calm' })
    t.equal(syncAck.ok, true, 'a sync guest joins')
    t.equal((await state).participants.length, 1)
    const health = await app.inject('/health')
    t.equal(health.statusCode, 200, 'the server is up')
    t.comment(`successes ${tally.success}, errors ${JSON.stringify(Object.fromEntries(tally.codes))}`)
  })
}

/**
 * The schema of every event that has one that can fail (`pong` takes anything): a payload it
 * rejects is a bad payload, which must be answered INVALID_REQUEST and change nothing.
 */
const SCHEMAS: Record<keyof typeof namespaces, Record<string, TSchema>> = {
  chat: {
    join_group: GroupRefPayload,
    leave_group: GroupRefPayload,
    get_room_info: GroupIdPayload,
    send_message: SendMessagePayload,
    typing_start: TypingPayload,
    typing_stop: TypingPayload,
    join_room: CodeRefPayload,
    leave_room: CodeRefPayload,
    'room:join': ChannelRefPayload,
    'room:leave': ChannelRefPayload,
    message: ChannelMessagePayload,
    typing: ChannelTypingPayload
  },
  sync: {
    'room:join': JoinRoomPayloadSchema,
    'room:leave': LeaveRoomPayloadSchema,
    'playback:update': PlaybackUpdatePayloadSchema,
    'sync:time': SyncTimePayloadSchema
  },
  public: { 'join-room': JoinRoomPayload, 'leave-room': LeaveRoomPayload }
}

/**
 * Keys that change without any client event, or with any (heartbeats, activity stamps, REST
 * rate-limit counters of the snapshot's own requests, limit windows that expire, the adapter's
 * stream and recovery sessions); every other key under the prefix is compared with its value.
 */
const VOLATILE = /^(instances|instance:[^:]+:(alive|ops)|sync:instances|realtime:activity|rl:.*|limit:.*|socket\.io.*|sio:session:.*)$/

async function readKey (store: Store, key: string): Promise<unknown> {
  const readers = [
    () => store.get(key),
    () => store.hGetAll(key),
    async () => (await store.sMembers(key)).sort(),
    () => store.zRangeByScore(key, -Infinity, Infinity)
  ]
  for (const reader of readers) {
    try {
      return await reader()
    } catch (err) {
      if (!/WRONGTYPE/.test((err as Error).message)) throw err
    }
  }
  return '(another type)'
}

for (const mode of modes()) {
  t.test(`${mode}: bad payloads are answered INVALID_REQUEST and change no state`, async (t) => {
    const { app, url } = await buildTestApp(t, {
      mode,
      // A typing indicator must not expire on its own during the run: only a bad payload could end it.
      env: { ...NO_BUDGET, PUBLIC_MAX_CONNECTIONS_PER_IP: '20', CHAT_MESSAGES_PER_MINUTE: '100000', TYPING_TTL_MS: '600000' }
    })
    const { store } = inner(app)
    const [alice, mallory, bob] = [await registerUser(app), await registerUser(app), await registerUser(app)]
    const asAlice = { authorization: `Bearer ${alice.token}` }
    const group = (await app.inject({ method: 'POST', url: '/api/groups', headers: asAlice, payload: { name: 'Calm group' } })).json().group
    for (const user of [mallory, bob]) {
      const added = await app.inject({ method: 'POST', url: `/api/groups/${group.id}/members`, headers: asAlice, payload: { userId: user.user.id } })
      t.equal(added.statusCode, 201, 'a member is added')
    }
    const channel = (await app.inject({ method: 'POST', url: '/api/channels', headers: asAlice, payload: { name: 'calm' } })).json().channel
    const publicRoom = await createPublicRoom(app)
    const syncRoom = await createSyncRoom(app, alice.token)
    const publicUser = await createPublicUser(app, 'Mallory')

    // Mallory is in everything, so that a bad payload could take her out, move the playback,
    // add a message or stop her typing: her sockets then only send what the schemas reject.
    const ok = async (socket: Socket, event: string, ...list: unknown[]) => {
      const reply = await socket.timeout(5_000).emitWithAck(event, ...list)
      t.not(reply?.ok, false, `mallory's ${event} succeeds`, { reply })
    }
    const chat = connect(t, url, { auth: { token: mallory.token } })
    const sync = connect(t, `${url}/sync`, { auth: { token: mallory.token } })
    const pub = connect(t, `${url}/public-room/${publicRoom.id}`)
    await Promise.all([connected(chat), connected(sync), connected(pub)])
    await ok(chat, 'join_group', group.id)
    await ok(chat, 'join_room', 'CALM')
    await ok(chat, 'room:join', { roomId: channel.id })
    await ok(chat, 'send_message', { groupId: group.id, content: 'before' })
    await ok(chat, 'message', { roomId: channel.id, content: 'before' })
    await ok(chat, 'typing_start', { groupId: group.id })
    await ok(chat, 'typing_start', { room: 'CALM' })
    await ok(sync, 'room:join', { roomCode: syncRoom.code })
    await ok(sync, 'playback:update', { action: 'seek', position: 42 })
    await ok(pub, 'join-room', { userId: publicUser.userId, userName: publicUser.userName })
    const observer = connect(t, url, { auth: { token: bob.token } })
    await connected(observer)
    await ok(observer, 'join_room', 'CALM')
    const sockets = { chat, sync, public: pub }

    const snapshot = async () => {
      const keys: Record<string, unknown> = {}
      for (const key of (await store.scan('*')).sort()) if (!VOLATILE.test(key)) keys[key] = await readKey(store, key)
      const get = async (path: string, headers: Record<string, string> = asAlice) => {
        const res = await app.inject({ url: path, headers })
        return { status: res.statusCode, body: res.json() }
      }
      return {
        keys,
        publicRoom: await get(`/api/public/rooms/${publicRoom.id}`, {}),
        syncRoom: await get(`/api/sync/rooms/${syncRoom.code}`),
        group: await get(`/api/groups/${group.id}`),
        groupMessages: await get(`/api/groups/${group.id}/messages`),
        groupPresence: await get(`/api/groups/${group.id}/presence`),
        channel: await get(`/api/channels/${channel.id}`),
        channelMessages: await get(`/api/channels/${channel.id}/messages`)
      }
    }
    const before = await snapshot()
    t.ok(Object.keys(before.keys).some((k) => k.startsWith('typing:')), 'the snapshot holds mallory\'s typing')
    t.ok(Object.keys(before.keys).some((k) => /^room:.+:users$/.test(k)), 'the snapshot holds room presence')

    const answers = new Map<string, number>()
    const wrong: unknown[] = []
    for (const [name, events] of Object.entries(SCHEMAS)) {
      const socket = sockets[name as keyof typeof sockets]
      for (const [event, schema] of Object.entries(events)) {
        const check = Compile(schema)
        await fc.assert(fc.asyncProperty(args.filter((list) => !check.Check(asSent(list[0]))), async (list) => {
          const reply = await socket.timeout(5_000).emitWithAck(event, ...list)
          const code = reply?.error?.code
          answers.set(code, (answers.get(code) ?? 0) + 1)
          if (reply?.ok === false && code === 'INVALID_REQUEST' && typeof reply.error.message === 'string') return true
          wrong.push({ namespace: name, event, list, reply })
          return false
        }), { numRuns: NUM_RUNS })
        t.ok(socket.connected, `${name} ${event}: the sender is still connected`)
      }
    }
    t.same(wrong, [], 'every bad payload was answered INVALID_REQUEST')
    t.comment(`answers ${JSON.stringify(Object.fromEntries(answers))}`)

    const after = await snapshot()
    t.same(after, before, 'rooms, participants, playback, members, messages, presence, typing and store keys are unchanged')
    t.comment(`compared ${Object.keys(before.keys).length} store keys: ${Object.keys(before.keys).join(' ')}`)
    // The snapshot does see what a valid payload changes.
    await ok(sync, 'playback:update', { action: 'seek', position: 7 })
    await ok(chat, 'typing_stop', { room: 'CALM' })
    const changed = await snapshot()
    t.notSame(changed.keys, after.keys, 'a valid playback:update and typing_stop show in the store snapshot')

    // Others keep receiving, and so does mallory.
    const heard = Promise.all([once(observer, 'new_message'), once(chat, 'new_message')])
    const sender = connect(t, url, { auth: { token: alice.token } })
    await connected(sender)
    await ok(sender, 'join_room', 'CALM')
    await ok(sender, 'send_message', { room: 'CALM', content: 'still here' })
    const [toBob, toMallory] = await heard
    t.equal(toBob.content, 'still here', 'a bystander receives')
    t.equal(toMallory.content, 'still here', 'the fuzzing client receives')
  })
}
