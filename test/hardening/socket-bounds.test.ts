import t from 'tap'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import type { Socket as ServerSocket } from 'socket.io'
import type { Socket } from 'socket.io-client'
import { buildTestApp, connect, connected, modes, once, registerUser, servicesSkipReason } from '../helper.js'

// Issue 16, sockets (CONTRACT §10): the inbound budget, replies kept out of recovery, slow consumers.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const heapAfterGc = () => { gc(); gc(); return process.memoryUsage().heapUsed }
const MB = 1024 * 1024

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

type Test = Parameters<typeof connect>[0]

async function chatClient (t: Test, url: string, token: string, room: string, options = {}): Promise<Socket> {
  const socket = connect(t, url, { auth: { token }, ...options })
  await connected(socket)
  const joined = once(socket, 'joined_room')
  socket.emit('join_room', room)
  await joined
  return socket
}

/** Emits `emitOne` in batches, a turn of the event loop apart, until `done` says stop (or `max`). */
async function flood (emitOne: () => void, done: () => boolean, max = 400_000): Promise<number> {
  let sent = 0
  while (!done() && sent < max) {
    for (let i = 0; i < 500; i++) emitOne()
    sent += 500
    await new Promise((resolve) => setImmediate(resolve))
  }
  return sent
}

for (const mode of modes()) {
  t.test(`${mode}: a guest flooding /sync is limited, then disconnected; a bystander is unharmed`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { WS_ABUSE_SECONDS: '1' } })
    const bob = await registerUser(app)
    const bystander = await chatClient(t, url, bob.token, 'CALM')
    const flooder = connect(t, `${url}/sync`)
    await connected(flooder)
    const codes = new Map<string, number>()
    flooder.on('room:error', (e: { code: string }) => { codes.set(e.code, (codes.get(e.code) ?? 0) + 1) })
    const dropped = once<string>(flooder, 'disconnect', 60_000)
    const before = heapAfterGc()
    let gone = false
    flooder.on('disconnect', () => { gone = true })
    const sending = flood(() => { flooder.emit('room:join', { nonsense: true }) }, () => gone)
    // While the flood goes on, the bystander's round trip is answered.
    const ack = await bystander.timeout(5_000).emitWithAck('send_message', { content: 'still here', room: 'CALM' })
    t.not(ack?.ok, false, "the bystander's message is acknowledged during the flood")
    t.equal(await dropped, 'io server disconnect', 'the flooder is disconnected')
    const sent = await sending
    t.ok(sent >= 1000, `the flooder sent ${sent} events`)
    t.ok((codes.get('RATE_LIMITED') ?? 0) >= 1, 'the flooder was told RATE_LIMITED')
    t.ok((codes.get('RATE_LIMITED') ?? 0) <= 3, 'at most one RATE_LIMITED a second')
    t.ok((codes.get('INVALID_REQUEST') ?? 0) <= 100 + 50 * 3, 'only the budget was answered INVALID_REQUEST')
    const growth = heapAfterGc() - before
    t.ok(growth < 8 * MB, `heap growth bounded (${(growth / MB).toFixed(1)} MB)`)
    const health = await app.inject('/health')
    t.equal(health.statusCode, 200, '/health answers')
    const metrics = (await app.inject('/metrics')).body
    t.match(metrics, /roomwire_socket_events_dropped_total\{namespace="\/sync"\} [1-9]/, 'the drops are counted')
  })

  t.test(`${mode}: anonymous sockets of one IP share a budget`, async (t) => {
    const { url } = await buildTestApp(t, { mode, env: { WS_EVENT_RATE: '1', WS_EVENT_BURST: '5', WS_ABUSE_SECONDS: '600' } })
    // Four guests' budget is the IP's (5 × 4 = 20 events at once): the sixth guest's first event is refused.
    const guests = await Promise.all(Array.from({ length: 6 }, async () => {
      const guest = connect(t, `${url}/sync`)
      await connected(guest)
      return guest
    }))
    const answers: string[] = []
    for (const guest of guests.slice(0, 5)) {
      for (let i = 0; i < 4; i++) {
        const ack = await guest.timeout(5_000).emitWithAck('room:leave', {})
        answers.push(ack.ok === false ? ack.error.code : 'ok')
      }
    }
    t.equal(answers.length, 20, 'twenty events of five guests, within each one\'s own burst, are all answered')
    const limited = once<{ code: string }>(guests[5], 'room:error')
    guests[5].emit('room:leave', {})
    t.equal((await limited).code, 'RATE_LIMITED', "the sixth guest's first event is over the IP's budget")
  })

  t.test(`${mode}: replies to one socket are not kept for recovery; what is kept is bounded`, async (t) => {
    const { app, url, prefix } = await buildTestApp(t, {
      mode, env: { WS_EVENT_RATE: '100000', WS_EVENT_BURST: '100000', RECOVERY_MAX_PACKETS: '50' }
    })
    const [alice, bob, mallory] = [await registerUser(app), await registerUser(app), await registerUser(app)]
    const victim = await chatClient(t, url, bob.token, 'ROOM')
    const sender = await chatClient(t, url, alice.token, 'ROOM')
    const flooder = await chatClient(t, url, mallory.token, 'OTHER')
    const first = once(victim, 'new_message')
    await sender.timeout(5_000).emitWithAck('send_message', { content: 'before', room: 'ROOM' })
    await first
    const kept = await recoveryCount(app, mode, prefix)
    // The victim's transport drops; while it is away the flooder provokes 500 replies.
    const away = once(victim, 'disconnect')
    victim.io.engine.close()
    await away
    const errors = await new Promise<number>((resolve) => {
      let n = 0
      flooder.on('error', () => { if (++n === 500) resolve(n) })
      for (let i = 0; i < 500; i++) flooder.emit('send_message', { room: 42 })
    })
    t.equal(errors, 500, 'the flooder got its 500 error replies')
    // The victim's going away is announced to `/` (a broadcast or two, kept): not 500 replies.
    const grew = await recoveryCount(app, mode, prefix) - kept
    t.ok(grew < 10, `none of them was kept for recovery (${grew} packets more)`)
    await sender.timeout(5_000).emitWithAck('send_message', { content: 'while away', room: 'ROOM' })
    // It comes back (as socket.io-client's reconnection would, here when the test says).
    const missed = once<{ content: string }>(victim, 'new_message')
    victim.connect()
    await connected(victim)
    t.equal(victim.recovered, true, 'the victim recovers its session')
    t.equal((await missed).content, 'while away', 'and gets what it missed')
    for (let i = 0; i < 120; i++) await sender.timeout(5_000).emitWithAck('send_message', { content: `m${i}`, room: 'ROOM' })
    const after = await recoveryCount(app, mode, prefix, 'largest')
    t.ok(after > 0, `the room's broadcasts were kept (${after})`)
    // With Redis, per room's log; Redis trims it approximately (MAXLEN ~): whole nodes of 100 entries.
    t.ok(after <= (mode === 'embedded' ? 50 : 150), `recovery keeps at most RECOVERY_MAX_PACKETS (${after})`)
  })

  t.test(`${mode}: a client that never reads is dropped as a slow consumer, and its memory comes back`, async (t) => {
    const { app, url } = await buildTestApp(t, {
      mode, env: { CHAT_MESSAGES_PER_MINUTE: '100000', CHAT_MAX_LENGTH: '50000', WS_EVENT_RATE: '100000', WS_EVENT_BURST: '100000' }
    })
    const [alice, bob] = [await registerUser(app), await registerUser(app)]
    const sender = await chatClient(t, url, alice.token, 'BIG')
    const before = heapAfterGc()
    const serverSide = new Promise<ServerSocket>((resolve) => { app.io.of('/').once('connection', resolve) })
    const raw = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`)
    t.teardown(() => { raw.terminate() })
    const joined = new Promise<void>((resolve) => {
      raw.on('message', (data) => {
        const text = String(data)
        if (text.startsWith('0')) raw.send(`40${JSON.stringify({ token: bob.token })}`)
        else if (text.startsWith('40')) raw.send('42["join_room","BIG"]')
        else if (text.startsWith('42["joined_room"')) resolve()
      })
    })
    await joined
    const slow = await serverSide
    // From now on it reads nothing; it answers the heartbeat blindly, as such a client would.
    ;(raw as unknown as { _socket: { pause (): void } })._socket.pause()
    const pong = setInterval(() => { raw.send('3') }, 1_000)
    t.teardown(() => { clearInterval(pong) })
    const state = { gone: false }
    const dropped = new Promise<string>((resolve) => { slow.once('disconnect', (reason) => { state.gone = true; resolve(reason) }) })
    const big = 'x'.repeat(40_000)
    let sent = 0
    while (!state.gone && sent < 2_000) {
      await sender.timeout(10_000).emitWithAck('send_message', { content: big, room: 'BIG' })
      sent++
    }
    t.ok(state.gone, `the non-reader was dropped after ${sent} messages of 40 kB`)
    t.ok(['forced close', 'transport close'].includes(await dropped), 'its connection was closed')
    t.ok(sender.connected, 'the sender stays')
    const metrics = (await app.inject('/metrics')).body
    t.match(metrics, /roomwire_socket_slow_consumers_total 1/, 'the slow consumer is counted')
    const growth = heapAfterGc() - before
    t.ok(growth < 8 * MB, `memory comes back (${(growth / MB).toFixed(1)} MB over before)`)
  })
}

/**
 * What connection state recovery keeps for `/`: the in-memory adapter's packets, or with Redis the
 * entries of the rooms' logs (src/socket/adapter/names.ts), summed or the largest log's.
 */
async function recoveryCount (app: Awaited<ReturnType<typeof buildTestApp>>['app'], mode: string, prefix: string, of: 'sum' | 'largest' = 'sum'): Promise<number> {
  if (mode === 'embedded') return (app.io.of('/').adapter as unknown as { packets: unknown[] }).packets.length
  const redis = new Redis(process.env.REDIS_URL!)
  try {
    const logs: string[] = []
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}sio:log:{/#*`, 'COUNT', 500)
      logs.push(...keys)
      cursor = next
    } while (cursor !== '0')
    const lengths = await Promise.all(logs.map(log => redis.xlen(log)))
    return of === 'sum' ? lengths.reduce((a, b) => a + b, 0) : Math.max(0, ...lengths)
  } finally {
    redis.disconnect()
  }
}
