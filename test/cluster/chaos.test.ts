import t from 'tap'
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { io as ioClient, type Socket } from 'socket.io-client'
import { freshPostgresUrl, freshRedisPrefix, servicesSkipReason, once, connected, JWT_SECRET, IP_HASH_SECRET } from '../helper.js'
import { logged, startInstance, startRedis, startRelay, type Instance } from './fixtures/processes.js'
import { chat, open, post, token, usersIn } from './fixtures/clients.js'

/**
 * Chaos: two real instances under steady channel traffic with clientMessageIds while, in turn,
 * one is killed with -9, Redis restarts empty, and PostgreSQL is cut off. Senders retry every
 * unacknowledged send with the same clientMessageId. Afterwards every acknowledged message is in
 * SQL exactly once (as acknowledged), no client received one twice, and presence and the per-IP
 * cap are exact. CHAOS_PHASE_MS (traffic per phase) and CHAOS_PG_OUTAGE_MS are options.
 */
const skip = servicesSkipReason()
if (skip) {
  t.skip(skip, () => {})
} else {
  const PHASE_MS = Number(process.env.CHAOS_PHASE_MS ?? 1_500)
  const PG_OUTAGE_MS = Number(process.env.CHAOS_PG_OUTAGE_MS ?? 3_000)
  const SEND_EVERY_MS = 40
  const ACK_WITHIN_MS = 3_000

  t.test('kill -9, Redis restarted empty, PostgreSQL cut: no acknowledged message lost or duplicated', async (t) => {
    const pgUrl = new URL(await freshPostgresUrl())
    const relay = await startRelay(t, { host: pgUrl.hostname, port: Number(pgUrl.port || 5432) })
    const viaRelay = new URL(pgUrl)
    viaRelay.port = String(relay.port)
    const redis = await startRedis(t)
    const env = {
      DATABASE_URL: viaRelay.toString(),
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: freshRedisPrefix(),
      REDIS_COMMAND_TIMEOUT_MS: '1000',
      JWT_SECRET,
      IP_HASH_SECRET,
      INSTANCE_TTL_MS: '900',
      CHAT_MESSAGES_PER_MINUTE: '100000'
    }
    const live: Instance[] = await Promise.all([startInstance(t, env), startInstance(t, env)])
    const [a, b] = live

    const channel = (await post(`${a.url}/api/channels`, { name: 'chaos' }, token('s1', 'S1'))).body.channel.id as string

    // Receivers, one per instance: every message id they got, counted.
    const received = new Map<string, Map<string, number>>()
    const receiver = async (instance: Instance, user: string) => {
      const socket = chat(t, instance, user, user)
      await connected(socket)
      const seen = new Map<string, number>()
      received.set(user, seen)
      socket.on('message', (m: { id: string }) => { seen.set(m.id, (seen.get(m.id) ?? 0) + 1) })
      await socket.emitWithAck('room:join', { roomId: channel })
      return socket
    }
    await Promise.all([receiver(a, 'r1'), receiver(b, 'r2')])

    // Presence: w1 on a stays; w2 on b dies with it. The IP cap: one public-room socket on each.
    const w1 = chat(t, a, 'w1', 'W1')
    const w2 = chat(t, b, 'w2', 'W2')
    await Promise.all([connected(w1), connected(w2)])
    w1.emit('join_room', 'CHAOS')
    await once(w1, 'joined_room')
    const both = usersIn(w1, ids => ids.length === 2)
    w2.emit('join_room', 'CHAOS')
    await both
    const owner = await post(`${a.url}/api/auth/register`, { username: `own${randomUUID().slice(0, 6)}`, password: 'correct horse battery' })
    const publicRoom = (await post(`${a.url}/api/public/rooms`, { name: 'cap', capacity: 10 }, owner.body.token)).body.id as string
    const held = [a, b].map((instance) => open(t, instance, `/public-room/${publicRoom}`))
    await Promise.all(held.map((socket) => connected(socket)))
    const heldOnA = held[0]
    const dropped: string[] = []
    heldOnA.on('disconnect', (reason) => { dropped.push(reason) })
    heldOnA.on('error', (e) => { dropped.push(JSON.stringify(e)) })

    // Senders: a socket to a live instance, replaced when it drops; an unacknowledged send is retried.
    const acked = new Map<string, string>()
    const flow = { on: true }
    const sender = async (user: string, home: number) => {
      let socket: Socket | null = null
      for (let n = 0; flow.on; n++) {
        const clientMessageId = `${user}-${n}`
        while (!acked.has(clientMessageId)) {
          if (socket === null || !socket.connected) {
            socket?.disconnect()
            const target = live[home % live.length]
            socket = ioClient(target.url, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: token(user, user) } })
            t.teardown(() => { socket?.disconnect() })
            try {
              await connected(socket, 2_000)
              await socket.timeout(ACK_WITHIN_MS).emitWithAck('room:join', { roomId: channel })
            } catch {
              home++
              continue
            }
          }
          try {
            const reply = await socket.timeout(ACK_WITHIN_MS).emitWithAck('message', { roomId: channel, content: clientMessageId, clientMessageId })
            if (reply?.ok === false || typeof reply?.id !== 'string') throw new Error('refused')
            acked.set(clientMessageId, reply.id)
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
        }
        await new Promise((resolve) => setTimeout(resolve, SEND_EVERY_MS))
      }
      socket?.disconnect()
    }
    const senders = Promise.all([sender('s1', 0), sender('s2', 1)])
    const traffic = () => new Promise((resolve) => setTimeout(resolve, PHASE_MS))

    await traffic()
    b.child.kill('SIGKILL')
    live.splice(live.indexOf(b), 1)
    await traffic()
    live.push(await startInstance(t, env))
    await traffic()

    await redis.stop()
    await redis.start()
    await Promise.all(live.map((instance) => logged(instance, 'wrote back what this instance holds')))
    await traffic()

    await relay.outage(PG_OUTAGE_MS)
    await traffic()
    flow.on = false
    await senders

    const db = new pg.Client({ connectionString: pgUrl.toString() })
    await db.connect()
    t.teardown(() => db.end())
    const rows = (await db.query<{ id: string, client_message_id: string }>(
      'select id, client_message_id from messages where room_id = $1 and client_message_id is not null', [channel])).rows
    const stored = new Map<string, string[]>()
    for (const row of rows) stored.set(row.client_message_id, [...(stored.get(row.client_message_id) ?? []), row.id])
    const lost = [...acked].filter(([cid, id]) => stored.get(cid)?.length !== 1 || stored.get(cid)![0] !== id)
    t.ok(acked.size > 20, `traffic flowed (${acked.size} acknowledged)`)
    t.same(lost, [], 'every acknowledged message is stored exactly once, as acknowledged')
    t.equal(rows.length, new Set(rows.map((r) => r.client_message_id)).size, 'no clientMessageId stored twice')
    for (const [user, seen] of received) {
      t.same([...seen].filter(([, count]) => count > 1), [], `${user} received no message twice`)
    }
    t.ok([...acked.values()].some((id) => received.get('r1')!.has(id)), 'the receiver on a got the traffic')

    const fresh = chat(t, live[1], 'fresh', 'Fresh')
    await connected(fresh)
    const seen = usersIn(fresh, ids => ids.includes('fresh'))
    fresh.emit('join_room', 'CHAOS')
    t.same(await seen, ['fresh', 'w1'], 'presence is exact: the killed instance\'s user gone, the survivor\'s written back')
    t.same(dropped, [], 'the public-room socket on a stayed connected throughout')
    // Admitted (its slot taken) once it hears its own join; then a third of the IP is one too many.
    const second = open(t, live[1], `/public-room/${publicRoom}`)
    await connected(second)
    const nia = (await post(`${live[1].url}/api/public/users`, { userName: 'Nia' })).body
    second.emit('join-room', { userId: nia.userId, userName: 'Nia' })
    t.match(await once(second, 'user-joined'), { userId: nia.userId }, 'the killed instance\'s slot was freed')
    t.match(await once(open(t, a, `/public-room/${publicRoom}`), 'error'), { code: 'TOO_MANY_CONNECTIONS' }, 'the per-IP cap is exact')
  })
}
