import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Cluster, Redis } from 'ioredis'
import { Server } from 'socket.io'
import { io as ioClient, type Socket } from 'socket.io-client'
import { createShardedFanout } from '../../../src/socket/adapter/index.js'
import { roomChannel, roomLog, sessionKey } from '../../../src/socket/adapter/names.js'
import { startCluster, startRedis, type OwnRedis } from './redis-servers.js'

/**
 * The sharded adapter (CONTRACT §12) on a Redis and a Redis Cluster of the test's own, through
 * real Socket.IO servers and clients: an instance receives only the rooms it has members of, and
 * connection state recovery across instances is recovered exactly or not at all.
 */
const PREFIX = 'rwtest:'
type Test = Pick<typeof t, 'teardown' | 'fail'>

interface Instance { io: Server, url: string, fanout: ReturnType<typeof createShardedFanout>, client: Redis | Cluster }

async function instance (test: Test, redis: OwnRedis, maxPerRoom = 1_000, echoWaitMs?: number): Promise<Instance> {
  const client = redis.client()
  const fanout = createShardedFanout(client, { prefix: PREFIX, maxPerRoom, ...(echoWaitMs === undefined ? {} : { echoWaitMs }) })
  const http = createServer()
  const io = new Server(http, { adapter: fanout.adapter, connectionStateRecovery: { maxDisconnectionDuration: 60_000 } })
  io.on('connection', async (socket) => {
    if (!socket.recovered) await socket.join(socket.handshake.auth.rooms as string[])
    socket.emit('ready')
    socket.on('whoami', () => { socket.emit('you', socket.id) })
  })
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
  test.teardown(async () => {
    await io.close()
    await fanout.close()
    client.disconnect()
  })
  return { io, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, fanout, client }
}

/** socket.io-client keeps the session id and last offset in these (private, read to resume elsewhere). */
type Client = Socket
const session = (s: Socket) => s as unknown as { _pid?: string, _lastOffset?: string }
interface Got { n: number, offset: string }

/** A client in `rooms` that records every `m` (its number and offset). */
async function member (test: Test, url: string, rooms: string[], resume?: Client, offset?: string) {
  const socket = ioClient(url, { transports: ['websocket'], reconnection: false, autoConnect: false, auth: { rooms } })
  const got: Got[] = []
  socket.on('m', (n: number, off: string) => got.push({ n, offset: off }))
  if (resume) Object.assign(session(socket), { _pid: session(resume)._pid, _lastOffset: offset ?? session(resume)._lastOffset })
  const ready = new Promise<void>(resolve => socket.once('ready', () => resolve()))
  socket.connect()
  await ready
  test.teardown(() => { socket.disconnect() })
  return { socket, got }
}

/** Polls `check` for up to 20 s (a liveness bound: a loaded CI machine needed more than 4). */
async function until (test: Test, what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  test.fail(`timed out waiting: ${what}`)
}

/** Emits `m n` to a room from an instance (through the adapter, as roomwire's outbox does). */
async function emit (from: Instance, room: string, n: number): Promise<void> {
  await from.io.of('/').adapter.broadcast({ type: 2, data: ['m', n], nsp: '/' } as never, { rooms: new Set([room]), except: new Set(), flags: {} })
}

/** Drops a client's connection as a network would (its session is kept), and waits until it is stored. */
async function drop (test: Test, from: Instance, socket: Client): Promise<void> {
  const pid = session(socket)._pid!
  ;(socket.io as unknown as { engine: { close (): void } }).engine.close()
  await until(test, 'session stored', async () => (await from.client.exists(sessionKey(PREFIX, '/', pid))) === 1)
}

for (const start of [startRedis, startCluster]) {
  t.test(start === startRedis ? 'on a Redis' : 'on a Redis Cluster', async (t) => {
    const redis = await start()
    t.teardown(() => redis.stop())

    t.test('an instance receives the rooms it has members of, and only those', async (t) => {
      const [a, b, c] = [await instance(t, redis), await instance(t, redis), await instance(t, redis)]
      const onA = await member(t, a.url, ['share:1'])
      const onB = await member(t, b.url, ['share:2'])
      const before = [a, b, c].map(i => i.fanout.stats.received.room)
      for (let n = 1; n <= 10; n++) { await emit(c, 'share:1', n); await emit(c, 'share:2', 100 + n) }
      await until(t, 'all delivered', () => onA.got.length === 10 && onB.got.length === 10)
      t.same(onA.got.map(g => g.n), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'in order, once')
      t.same([a, b, c].map((i, k) => i.fanout.stats.received.room - before[k]), [10, 10, 0], 'A got room 1 only, B room 2 only, C (no members) nothing')
      c.io.to('share:1').volatile.emit('m', 11)
      await until(t, 'volatile delivered', () => onA.got.length === 11)
      t.same(onA.got[10], { n: 11, offset: undefined }, 'a volatile broadcast goes on the room channel too, without an offset')
      t.equal(a.fanout.stats.received.room - before[0], 11, 'received on the room channel')
      onA.socket.disconnect()
      await until(t, 'A unsubscribed from the room', () => a.fanout.subscriptions.size === 2)
      t.equal(a.fanout.subscriptions.size, 2, 'left: the namespace channel and its response channel')
    })

    t.test("a kept broadcast resolves when its own sockets have it, though another room's log gave the same id", async (t) => {
      // No echo wait to hide behind: a publish that misses its own echo never resolves here.
      const a = await instance(t, redis, 1_000, 600_000)
      const [x, y] = [await member(t, a.url, ['same:x']), await member(t, a.url, ['same:y'])]
      /** Per room, the numbers written to its member's socket on the server, as they are written. */
      const written = new Map<string, number[]>([['same:x', []], ['same:y', []]])
      for (const [room, m] of [['same:x', x], ['same:y', y]] as const) {
        a.io.of('/').sockets.get(m.socket.id!)!.onAnyOutgoing((event: string, n: number) => { if (event === 'm') written.get(room)!.push(n) })
      }
      const rounds = 30
      const early: string[] = []
      let resolved = 0
      for (let n = 1; n <= rounds; n++) {
        // Sent together, the two scripts run in the same millisecond: both logs answer the same id.
        for (const room of ['same:x', 'same:y']) {
          emit(a, room, n).then(() => {
            resolved++
            if (!written.get(room)!.includes(n)) early.push(`${room} ${n}`)
          }, () => {})
        }
        await until(t, `round ${n}: both broadcasts resolved`, () => resolved === 2 * n)
        if (resolved !== 2 * n) return
      }
      t.same(early, [], 'none resolved before its own room had it')
      await until(t, 'all delivered', () => x.got.length === rounds && y.got.length === rounds)
      t.same([x.got.map(g => g.n), y.got.map(g => g.n)], [1, 2].map(() => Array.from({ length: rounds }, (_, k) => k + 1)), 'each room all of its own, in order')
      const ids = x.got.filter((g, k) => g.offset.split('~')[0] === y.got[k]?.offset.split('~')[0]).length
      t.ok(ids > 0, `the two rooms' logs gave the same id ${ids} times of ${rounds} (what this test is about)`)
    })

    t.test('a namespace made on a connection delivers its first broadcast to everyone', async (t) => {
      const a = await instance(t, redis)
      // As a public room's namespace: a child made when its first client connects, and at once told something.
      a.io.of(/^\/fresh-\d+$/).on('connection', (socket) => { socket.nsp.emit('hello', socket.nsp.name) })
      const heard: string[] = []
      for (let k = 0; k < 10; k++) {
        const socket = ioClient(`${a.url}/fresh-${k}`, { transports: ['websocket'], reconnection: false })
        t.teardown(() => { socket.disconnect() })
        socket.on('hello', (name: string) => heard.push(name))
      }
      await until(t, 'every namespace said hello', () => heard.length === 10)
      t.same(heard.sort(), Array.from({ length: 10 }, (_, k) => `/fresh-${k}`).sort(), 'each once')
    })

    t.test('a session is recovered on another instance with exactly what it missed', async (t) => {
      const [a, b] = [await instance(t, redis), await instance(t, redis)]
      const first = await member(t, a.url, ['rec:1', 'rec:2'])
      // Rooms have channels of their own (on a cluster, on different masters): only waiting for 1
      // before 2 is sent makes 1 the first delivery, as the offset below assumes.
      await emit(b, 'rec:1', 1)
      await until(t, 'one received', () => first.got.length === 1)
      await emit(b, 'rec:2', 2)
      await until(t, 'two received', () => first.got.length === 2)
      t.same(first.got.map(g => g.n), [1, 2], 'delivered in the order sent')
      await drop(t, a, first.socket)
      for (const [room, n] of [['rec:1', 3], ['rec:2', 4], ['rec:1', 5]] as const) await emit(a, room, n)
      // The offset the client really saw decides: with that of 1, it lost 2 with its connection.
      const back = await member(t, b.url, [], first.socket, first.got[0].offset)
      t.equal(back.socket.recovered, true, 'recovered')
      await until(t, 'replayed', () => back.got.length === 4)
      const inRoom = (room: number[]) => back.got.map(g => g.n).filter(n => room.includes(n))
      t.same(inRoom([1, 3, 5]), [3, 5], 'room 1: after 1, in order')
      t.same(inRoom([2, 4]), [2, 4], 'room 2: from before 2, lost in transit, in order')
      await emit(a, 'rec:2', 6)
      await until(t, 'live again', () => back.got.length === 5)
      t.equal(back.got[4].n, 6, 'then live, nothing twice')

      await drop(t, b, back.socket)
      await emit(a, 'rec:1', 7)
      const again = await member(t, a.url, [], back.socket)
      t.equal(again.socket.recovered, true, 'recovered again, back on the first instance')
      await until(t, 'replayed', () => again.got.length === 1)
      t.same(again.got.map(g => g.n), [7], 'only what it missed')
    })

    t.test('a restored socket gets nothing twice though this instance hears the room after the log was read', async (t) => {
      const [a, b] = [await instance(t, redis), await instance(t, redis)]
      const first = await member(t, a.url, ['late:1'])
      const onB = await member(t, b.url, ['late:1'])
      await emit(a, 'late:1', 1)
      await until(t, 'both received', () => first.got.length === 1 && onB.got.length === 1)
      await drop(t, a, first.socket)
      // B's subscriber lags the log (a loaded machine, another connection than the one that reads
      // the log): what Redis hands it for the room waits until the restore below has read the log.
      const adapter = b.io.of('/').adapter as unknown as { onRawMessage (raw: Buffer, channel: string): void }
      const hear = adapter.onRawMessage.bind(adapter)
      const held: Array<[Buffer, string]> = []
      adapter.onRawMessage = (raw, channel) => { held.push([raw, channel]) }
      for (const n of [2, 3, 4]) await emit(a, 'late:1', n)
      await until(t, 'B was handed them', () => held.filter(([, channel]) => channel === roomChannel(PREFIX, '/', 'late:1')).length === 3)
      const back = await member(t, b.url, [], first.socket)
      t.equal(back.socket.recovered, true, 'recovered')
      await until(t, 'replayed', () => back.got.length === 3)
      const answers: unknown[][] = []
      back.socket.on('you', (...args: unknown[]) => answers.push(args))
      back.socket.emit('whoami')
      await until(t, 'answered', () => answers.length === 1)
      t.equal(answers[0].length, 1, "a reply meanwhile carries no offset (B's newest is older than what the client has)")
      adapter.onRawMessage = hear
      for (const [raw, channel] of held) hear(raw, channel)
      await until(t, 'B heard them', () => onB.got.length === 4)
      await emit(a, 'late:1', 5)
      await until(t, 'live again', () => back.got.length >= 4 && onB.got.length === 5)
      t.same(back.got.map(g => g.n), [2, 3, 4, 5], 'what it missed, once, then live')
      t.same(onB.got.map(g => g.n), [1, 2, 3, 4, 5], "B's own member had all, once")
    })

    t.test('not recovered when it cannot be exact', async (t) => {
      const [a, b] = [await instance(t, redis, 3), await instance(t, redis, 3)]
      const m = await member(t, a.url, ['honest:1'])
      await emit(b, 'honest:1', 1)
      await until(t, 'received', () => m.got.length === 1)

      await drop(t, a, m.socket)
      const unknown = await member(t, b.url, [], m.socket, '1-0~zz')
      t.equal(unknown.socket.recovered, false, 'an offset the session does not know: a fresh session')
      const twice = await member(t, b.url, [], m.socket)
      t.equal(twice.socket.recovered, false, 'a session is restored at most once')

      const n = await member(t, a.url, ['honest:2'])
      await emit(b, 'honest:2', 1)
      await until(t, 'received', () => n.got.length === 1)
      await drop(t, a, n.socket)
      for (let k = 2; k <= 6; k++) await emit(b, 'honest:2', k)
      const tooMany = await member(t, b.url, [], n.socket)
      t.equal(tooMany.socket.recovered, false, 'more missed than the log keeps')
      t.same(tooMany.got, [], 'and nothing replayed')

      const o = await member(t, a.url, ['honest:3'])
      await emit(b, 'honest:3', 1)
      await until(t, 'received', () => o.got.length === 1)
      await drop(t, a, o.socket)
      await emit(b, 'honest:3', 2)
      await a.client.xtrim(roomLog(PREFIX, '/', 'honest:3'), 'MAXLEN', 0)
      const trimmed = await member(t, b.url, [], o.socket)
      t.equal(trimmed.socket.recovered, false, 'the log was trimmed past the client')
    })

    t.test('replies to one socket are not kept, and carry the newest offset', async (t) => {
      const a = await instance(t, redis)
      const m = await member(t, a.url, ['reply:1'])
      await emit(a, 'reply:1', 1)
      await until(t, 'received', () => m.got.length === 1)
      const log = roomLog(PREFIX, '/', 'reply:1')
      const lengths = async () => [await a.client.xlen(log), await a.client.xlen(roomLog(PREFIX, '/', ''))]
      const before = await lengths()
      const answers: unknown[][] = []
      m.socket.on('you', (...args: unknown[]) => answers.push(args))
      for (let k = 0; k < 5; k++) m.socket.emit('whoami')
      await until(t, 'answered', () => answers.length === 5)
      t.same(await lengths(), before, 'no log grew')
      t.equal(answers[0][1], m.got[0].offset, "a reply carries the socket's rooms' newest offset")
    })

    if (redis.kind === 'cluster') {
      t.test("rooms' channels spread over the masters", async (t) => {
        const a = await instance(t, redis)
        const rooms = Array.from({ length: 12 }, (_, k) => `spread:${k}`)
        await member(t, a.url, rooms)
        const owners = new Set<number>()
        for (const port of redis.ports) {
          const node = (a.client as Cluster).nodes('master').find(n => n.options.port === port)!
          const channels = await node.call('PUBSUB', 'SHARDCHANNELS', `${PREFIX}*`) as string[]
          if (rooms.some(room => channels.includes(roomChannel(PREFIX, '/', room)))) owners.add(port)
        }
        t.ok(owners.size >= 2, `12 rooms subscribed on ${owners.size} masters`)
      })
    }
  })
}
