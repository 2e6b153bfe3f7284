import t from 'tap'
import { sql } from 'drizzle-orm'
import { modes } from '../helper.js'
import { databaseOf, newRoom, startReceiver, verify, webhookApp } from './fixtures.js'
import type { WebhookEvent } from '../../src/webhooks/events.js'

for (const mode of modes()) {
  t.test(`${mode}: events arrive as specified, signed, batched, in the caller's transaction or not at all`, async (t) => {
    const receiver = await startReceiver(t)
    const group = `signed-${mode}`
    const { app } = await webhookApp(t, mode, [receiver.url], { group })
    const { db } = await databaseOf(t, mode, group)
    const room = newRoom('group')
    const first = await app.webhooks.enqueue([
      { type: 'room.occupied', room },
      { type: 'member.added', room, userId: 'u1', data: { name: 'Ada' } }
    ])
    const [stored] = await db.transaction(async (tx) => {
      return await app.webhooks.enqueue([{ type: 'message.created', room, userId: 'u1', data: { seq: 1 } }], tx)
    })
    await t.rejects(db.transaction(async (tx) => {
      await app.webhooks.enqueue([{ type: 'message.created', room, data: { seq: 'rolled back' } }], tx)
      throw new Error('rollback')
    }))
    const expected: WebhookEvent[] = [...first, stored]
    await receiver.until(() => receiver.events(new Set([room.id])).length >= 3, 'three events')

    t.same(receiver.events(new Set([room.id])), expected, 'the events as enqueued, in order, nothing rolled back')
    t.match(expected[1], { id: String, type: 'member.added', at: String, room, userId: 'u1', data: { name: 'Ada' } })
    t.notOk('userId' in expected[0] || 'data' in expected[0], 'no empty optional fields')
    for (const received of receiver.accepted) {
      t.match(received.payload, { time_ms: Number, events: Array })
      t.match(received.headers['content-type'], /^application\/json/)
      t.match(received.id, /^msg_[0-9a-f]{32}$/)
      t.same(verify(received), received.payload, 'valid signature (standardwebhooks)')
    }
    t.throws(() => verify(receiver.accepted[0], 'whsec_' + Buffer.alloc(24, 1).toString('base64')), 'another secret does not verify')
  })

  t.test(`${mode}: two instances on one database deliver each event once`, async (t) => {
    const receiver = await startReceiver(t)
    const group = `two-${mode}`
    const a = await webhookApp(t, mode, [receiver.url], { group })
    const b = await webhookApp(t, mode, [receiver.url], { group })
    const rooms = [newRoom('public'), newRoom('sync')]
    const ids = new Set<string>()
    for (let n = 0; n < 20; n++) {
      const app = n % 2 === 0 ? a.app : b.app
      for (const e of await app.webhooks.enqueue([{ type: 'member.added', room: rooms[n % 2], data: { n } }])) ids.add(e.id)
    }
    const ours = new Set(rooms.map(r => r.id))
    await receiver.until(() => new Set(receiver.events(ours).map(e => e.id)).size === ids.size, 'all 20 events')
    // A moment more, so a second sender's copies would have arrived too.
    await new Promise(resolve => setTimeout(resolve, 300))
    const received = receiver.events(ours)
    t.equal(received.length, 20, 'each event once')
    t.same(new Set(received.map(e => e.id)), ids)
    t.equal(new Set(receiver.accepted.map(r => r.id)).size, receiver.accepted.length, 'each delivery once')
    for (const room of rooms) {
      const order = received.filter(e => e.room?.id === room.id).map(e => e.data!.n as number)
      t.same(order, [...order].sort((x, y) => x - y), `order kept in ${room.kind} room`)
    }
  })

  t.test(`${mode}: a receiver down for a while, then up, gets everything in order per room`, async (t) => {
    const receiver = await startReceiver(t, 'down')
    const { app } = await webhookApp(t, mode, [receiver.url], { webhookMaxAttempts: 100 })
    const rooms = [newRoom('channel'), newRoom('code'), newRoom('public')]
    for (let n = 0; n < 30; n++) {
      await app.webhooks.enqueue([{ type: 'message.created', room: rooms[n % 3], data: { n } }])
      if (n % 5 === 0) await new Promise(resolve => setTimeout(resolve, 30))
    }
    await receiver.until(() => receiver.requests() >= 6, 'retries while down')
    await new Promise(resolve => setTimeout(resolve, 1_000))
    receiver.behaviour = 'ok'
    const ours = new Set(rooms.map(r => r.id))
    await receiver.until(() => receiver.events(ours).length >= 30, 'all 30 events')
    const received = receiver.events(ours)
    t.equal(new Set(received.map(e => e.id)).size, 30, 'every event arrived')
    for (const room of rooms) {
      const order = received.filter(e => e.room?.id === room.id).map(e => e.data!.n as number)
      t.same(order, [...order].sort((x, y) => x - y), `in order in ${room.kind} room ${order.join(',')}`)
      t.equal(order.length, 10)
    }
    const { deliveries } = (await app.inject({ url: '/api/webhooks/deliveries', headers: { 'x-api-key': 'test-admin-key-0123456789abcdef' } })).json()
    t.ok(deliveries.some((d: { attempts: number, status: string }) => d.status === 'delivered' && d.attempts > 1), 'delivered after retries')
  })

  t.test(`${mode}: concurrent enqueues past the in-memory bound wait for their INSERT and all arrive`, async (t) => {
    const receiver = await startReceiver(t)
    const { app } = await webhookApp(t, mode, [receiver.url], { webhookQueueBound: 5 })
    const room = newRoom('public')
    const written = await Promise.all(Array.from({ length: 50 }, (_, n) => app.webhooks.enqueue([{ type: 'user.online', room, userId: `u${n}` }])))
    await receiver.until(() => receiver.events(new Set([room.id])).length >= 50, 'all 50 events')
    t.same(new Set(receiver.events(new Set([room.id])).map(e => e.id)), new Set(written.flat().map(e => e.id)), 'none lost')
  })

  t.test(`${mode}: a receiver that never answers does not slow enqueue, and times out`, async (t) => {
    const receiver = await startReceiver(t, 'hang')
    const { app } = await webhookApp(t, mode, [receiver.url], { webhookTimeoutMs: 5_000 })
    const room = newRoom('sync')
    await app.webhooks.enqueue([{ type: 'sync.playback', room, data: { n: -1 } }])
    await receiver.until(() => receiver.requests() >= 1, 'a request in flight')
    const started = Date.now()
    for (let n = 0; n < 100; n++) await app.webhooks.enqueue([{ type: 'sync.playback', room, data: { n } }])
    const took = Date.now() - started
    t.ok(took < 5_000, `100 enqueues in ${took} ms, while a request hangs for up to 5 s`)
    const metrics = (await app.inject('/metrics')).body
    t.match(metrics, /roomwire_webhook_queued\{stage="outbox"\} \d+|roomwire_webhook_queued\{stage="deliveries"\} [1-9]/, 'the backlog is measured')
    receiver.behaviour = 'ok'
    await receiver.until(() => receiver.events(new Set([room.id])).length >= 101, 'all after the timeout', 20_000)
    t.match((await app.inject('/metrics')).body, /roomwire_webhook_attempts_total\{result="failed"\} [1-9]/, 'the hung request counted as failed')
  })

  t.test(`${mode}: a killed sender loses nothing; another instance takes the expired lease`, async (t) => {
    const receiver = await startReceiver(t, 'hang')
    const group = `kill-${mode}`
    const a = await webhookApp(t, mode, [receiver.url], { group, instanceId: `a-${group}` })
    const room = newRoom('channel')
    const ids: string[] = []
    for (let n = 0; n < 5; n++) ids.push(...(await a.app.webhooks.enqueue([{ type: 'member.added', room, data: { n } }])).map(e => e.id))
    await receiver.until(() => receiver.requests() >= 1, 'the first sender mid-request')
    a.app.webhooks.sender.abandon()
    const b = await webhookApp(t, mode, [receiver.url], { group, instanceId: `b-${group}` })
    for (let n = 5; n < 10; n++) ids.push(...(await b.app.webhooks.enqueue([{ type: 'member.added', room, data: { n } }])).map(e => e.id))
    receiver.behaviour = 'ok'
    await receiver.until(() => new Set(receiver.events(new Set([room.id])).map(e => e.id)).size >= 10, 'every event')
    const received = receiver.events(new Set([room.id]))
    t.same([...new Set(received.map(e => e.id))], ids, 'nothing lost, in order')
    const { db } = await databaseOf(t, mode, group)
    const [lease] = (await db.execute<{ holder: string }>(sql`select holder from webhook_leases where name = 'sender'`)).rows
    t.equal(lease.holder, `b-${group}`, 'the second instance holds the lease')
  })
}
