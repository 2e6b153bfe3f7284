import t from 'tap'
import fc from 'fast-check'
import type { Socket } from 'socket.io-client'
import { buildTestApp, connect, connected, modes, once, registerUser, servicesSkipReason } from '../helper.js'
import { CHAT_ERROR_CODES } from '../../src/contract/chat.js'
import { Compile } from 'typebox/compile'
import { LeaveRoomPayload, PublicRoomErrorCode } from '../../src/contract/public-rooms.js'
import { createRoom as createPublicRoom } from '../public-rooms/fixtures.js'
import { createRoom as createSyncRoom } from '../sync/fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

const NUM_RUNS = 30
let lastEmit = ''
/** A valid `leave-room` (seed 000) succeeds and then disconnects the socket, by design. */
const validLeave = Compile(LeaveRoomPayload)
let dropExpected = false

/** Every client → server event of every namespace (docs/events.md, src/contract/*.ts), with its error codes. */
const SYNC_ERROR_CODES = ['ROOM_NOT_FOUND', 'ROOM_FULL', 'INVALID_PASSWORD', 'UNAUTHORIZED', 'ALREADY_IN_ROOM',
  'NOT_IN_ROOM', 'INVALID_TOKEN', 'INTERNAL_ERROR', 'INVALID_REQUEST', 'RATE_LIMITED']
const namespaces = {
  chat: {
    events: ['join_group', 'leave_group', 'get_room_info', 'send_message', 'typing_start', 'typing_stop',
      'join_room', 'leave_room', 'room:join', 'room:leave', 'message', 'typing'],
    codes: [...CHAT_ERROR_CODES] as string[]
  },
  sync: { events: ['room:join', 'room:leave', 'playback:update', 'sync:time'], codes: SYNC_ERROR_CODES },
  public: { events: ['join-room', 'leave-room', 'pong'], codes: Object.values(PublicRoomErrorCode) as string[] }
}
/** Codes that only an unexpected failure (a bug) produces: never acceptable for input. */
const UNEXPECTED = new Set(['INTERNAL_ERROR', 'JOIN_ERROR', 'LEAVE_ERROR', 'CONNECTION_ERROR'])

const FIELDS = ['userId', 'userName', 'roomCode', 'password', 'guestName', 'resumeToken', 'action', 'position', 'rate',
  'mediaUrl', 'clientTime', 'groupId', 'content', 'type', 'replyToId', 'clientMessageId', 'room', 'messageType',
  'roomId', 'isTyping']

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

type TestT = Pick<typeof t, 'pass'>

interface Tally { success: number, codes: Map<string, number>, bad: unknown[] }

async function fuzzEvent (t: TestT, socket: () => Promise<Socket>, event: string, codes: string[], tally: Tally) {
  await fc.assert(fc.asyncProperty(args, async (list) => {
    const s = await socket()
    lastEmit = `${event} ${JSON.stringify(list)?.slice(0, 300)}`
    dropExpected = event === 'leave-room' && validLeave.Check(list[0])
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
  }), { numRuns: NUM_RUNS })
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

for (const mode of modes()) {
  t.test(`${mode}: every socket event survives arbitrary payloads`, async (t) => {
    const { app, url } = await buildTestApp(t, {
      mode, env: { PUBLIC_MAX_CONNECTIONS_PER_IP: '20', CHAT_MESSAGES_PER_MINUTE: '100000', SYNC_PASSWORD_ATTEMPTS: '100000' }
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
