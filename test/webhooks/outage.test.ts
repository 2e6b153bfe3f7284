import t from 'tap'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { ADMIN_API_KEY, connected, servicesSkipReason } from '../helper.js'
import { startInstance, type Instance } from '../cluster/fixtures/processes.js'
import { post, token } from '../cluster/fixtures/clients.js'
import { ack, brief, chatSocket, ofRoom, outboxOf, sameCopies, startVerifyingReceiver, until, webhookEnv } from './process-fixtures.js'
import type { DeliveryView } from '../../src/webhooks/contract.js'

/**
 * Issue #20 with a real roomwire process and real sockets: a receiver down for 30 s, then up,
 * gets every event in order per room; a receiver that never answers slows no socket down, and
 * the bounded queue and the metrics show it.
 */
const skip = servicesSkipReason()
const DOWN_MS = 30_000

/**
 * A series' value in the instance's `/metrics`: `name` sums every label set, `name{labels}`
 * takes that exact set.
 */
async function metric (instance: Instance, series: string): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text()
  const matches = (line: string) => series.includes('{') ? line.startsWith(series + ' ') : line.startsWith(series + ' ') || line.startsWith(series + '{')
  return text.split('\n').filter(matches).reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
}

async function registered (instance: Instance, name: string) {
  const res = await post(`${instance.url}/api/auth/register`, { username: `${name}${randomUUID().slice(0, 6)}`, password: 'correct horse battery' })
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { token: string, user: { id: string } }
}

if (skip) {
  t.skip(skip, () => {})
} else {
  t.test(`a receiver down for ${DOWN_MS / 1000} s, then up: every event arrives, in order per room`, async (t) => {
    const receiver = await startVerifyingReceiver(t)
    const env = await webhookEnv(receiver.url)
    const instance = await startInstance(t, env)
    const outbox = await outboxOf(t, env.DATABASE_URL!)
    const owner = await registered(instance, 'own')
    const group = await post(`${instance.url}/api/groups`, { name: 'outage', description: 'while the receiver is down', isPrivate: false }, owner.token)
    t.equal(group.status, 201)
    const groupId = group.body.group.id as string
    const code = `DOWN${randomUUID().slice(0, 6).toUpperCase()}`

    await receiver.close()
    const downAt = Date.now()
    const writer = chatSocket(t, instance, owner.token)
    await connected(writer)
    await ack(writer, 'join_group', { groupId })
    // Real sockets joining, leaving and sending, spread over the whole outage.
    const sent: string[] = []
    let visits = 0
    while (Date.now() - downAt < DOWN_MS - 2_000) {
      const content = `while down ${sent.length}`
      const reply = await ack(writer, 'send_message', { groupId, content, type: 'TEXT' })
      t.equal(reply?.error, undefined, 'sent')
      sent.push(content)
      const visitor = chatSocket(t, instance, token(`visitor${visits}`, `Visitor ${visits}`))
      await connected(visitor)
      await ack(visitor, 'join_room', code)
      await ack(visitor, 'leave_room', code)
      visitor.disconnect()
      visits++
      await sleep(1_500)
    }
    await ack(writer, 'leave_group', { groupId })
    writer.disconnect()
    const written = async () => await outbox.written()
    await until(async () => await written() >= sent.length + 6 * visits + 6, 'the events committed')
    t.equal(receiver.requests(), 0, 'nothing reached the receiver while it was down')
    await sleep(Math.max(0, DOWN_MS - (Date.now() - downAt)))
    const { deliveries } = await (await fetch(`${instance.url}/api/webhooks/deliveries?status=pending`, { headers: { 'x-api-key': ADMIN_API_KEY } })).json() as { deliveries: DeliveryView[] }
    const retried = deliveries.find(d => d.attempts > 1 && d.lastError !== null)
    t.ok(retried, `pending deliveries retried meanwhile (${deliveries.length}, up to ${Math.max(...deliveries.map(d => d.attempts))} attempts; last error: ${retried?.lastError})`)
    const downFor = Date.now() - downAt
    await receiver.open()
    t.comment(`receiver down for ${(downFor / 1000).toFixed(1)} s; ${sent.length} messages and ${visits} visits meanwhile`)

    const total = await written()
    await until(() => receiver.events().length >= total, `all ${total} events after the outage`, 60_000)
    const events = receiver.events()
    t.equal(events.length, total, `every event arrived (${total})`)
    t.same(receiver.bad, [], 'every request verified with standardwebhooks')
    t.ok(sameCopies(receiver), 'a duplicate only ever under the same id')
    const inGroup = ofRoom(events, groupId)
    t.same(brief(inGroup).slice(0, 2), [`room.occupied ${owner.user.id} 1`, `member.added ${owner.user.id} 1`], 'the group occupied first')
    t.same(inGroup.filter(e => e.type === 'message.created').map(e => e.data?.content), sent, 'the messages in the order they were sent')
    t.same(inGroup.filter(e => e.type === 'message.created').map(e => e.data?.seq), sent.map((_, n) => n + 1), 'seq 1, 2, 3, …')
    t.same(brief(inGroup).slice(-2), [`member.removed ${owner.user.id} 0`, `room.vacated ${owner.user.id} 0`], 'vacated last')
    const visitsSeen = brief(ofRoom(events, code))
    t.same(visitsSeen, Array.from({ length: visits }, (_, n) => [`room.occupied visitor${n} 1`, `member.added visitor${n} 1`,
      `member.removed visitor${n} 0`, `room.vacated visitor${n} 0`]).flat(), `the code room's ${visits} visits in order`)
  })

  t.test('a receiver that never answers: socket acks keep coming, the queue stays bounded, the metrics show it', async (t) => {
    const receiver = await startVerifyingReceiver(t)
    receiver.mode = 'hang'
    const env = await webhookEnv(receiver.url, { WEBHOOK_TIMEOUT_MS: '3000', WEBHOOK_QUEUE_BOUND: '5', WEBHOOK_RETRY_BASE_MS: '500' })
    const instance = await startInstance(t, env)
    const outbox = await outboxOf(t, env.DATABASE_URL!)
    const users = Array.from({ length: 8 }, (_, n) => chatSocket(t, instance, token(`slow${n}`, `Slow ${n}`)))
    await Promise.all(users.map(s => connected(s)))
    await until(() => receiver.hanging() >= 1, 'a request hanging')

    // Real clients: 8 sockets × 15 rounds of join, message, leave, each waiting for its ack.
    const rooms = users.map((_, n) => `SLOW${n}${randomUUID().slice(0, 4).toUpperCase()}`)
    let acks = 0
    let whileHanging = 0
    for (let round = 0; round < 15; round++) {
      await Promise.all(users.map(async (socket, n) => {
        const room = rooms[(n + round) % rooms.length]
        t.match(await ack(socket, 'join_room', room), { ok: true })
        t.match(await ack(socket, 'send_message', { room, content: `round ${round}` }), { content: `round ${round}` })
        t.match(await ack(socket, 'leave_room', room), { ok: true })
        acks += 3
        if (receiver.hanging() >= 1) whileHanging += 3
      }))
    }
    t.equal(acks, 360, 'every ack arrived')
    t.ok(whileHanging > 0, `${whileHanging} of them while the receiver held a request open`)
    t.equal(receiver.recorded.length, 0, 'the receiver answered nothing')
    t.ok(receiver.mostAtOnce() <= 16, `requests open at once stay within the in-flight bound (${receiver.mostAtOnce()} ≤ 16)`)

    // Presence events are written in the background: wait for all of them (8 online, 4 per visit).
    const written = users.length + 15 * users.length * 4
    await until(async () => await outbox.written() >= written, `the ${written} events committed`)
    t.equal(await outbox.written(), written, 'each event committed once')
    await until(async () => await metric(instance, 'roomwire_webhook_attempts_total{result="failed"}') >= 1, 'a timed-out attempt counted')
    t.equal(await metric(instance, 'roomwire_webhook_events_sent_total'), 0, 'metrics: nothing sent yet')
    t.ok(await metric(instance, 'roomwire_webhook_queued{stage="buffer"}') <= 5, 'metrics: the in-memory buffer within WEBHOOK_QUEUE_BOUND')
    const queued = await metric(instance, 'roomwire_webhook_queued{stage="deliveries"}') + await metric(instance, 'roomwire_webhook_queued{stage="outbox"}')
    t.ok(queued > 0, `metrics: the backlog is in SQL (${queued} deliveries/events queued), not in memory`)
    t.equal(await metric(instance, 'roomwire_webhook_events_enqueued_total'), written, `metrics: ${written} events enqueued`)

    receiver.mode = 'ok'
    await until(() => receiver.events().length >= written, 'everything after the receiver recovered', 60_000)
    await until(async () => await metric(instance, 'roomwire_webhook_events_sent_total') >= written, 'the sent counter')
    t.equal(await metric(instance, 'roomwire_webhook_events_sent_total'), written, 'metrics: every event sent')
    t.ok(await metric(instance, 'roomwire_webhook_delivery_latency_seconds_count') > 0, 'metrics: delivery latency observed')
    t.ok(await metric(instance, 'roomwire_webhook_request_duration_seconds_count') > 0, 'metrics: request durations observed')
    await until(async () => await metric(instance, 'roomwire_webhook_queued{stage="deliveries"}') === 0, 'the backlog drained')
    t.same(receiver.bad, [])
    // Each round puts one socket in each room, and a round starts when the last one's acks came.
    for (const [r, room] of rooms.entries()) {
      const expected = Array.from({ length: 15 }, (_, round) => `slow${(r - round + 15 * 8) % 8}`)
        .flatMap(u => [`room.occupied ${u} 1`, `member.added ${u} 1`, `member.removed ${u} 0`, `room.vacated ${u} 0`])
      t.same(brief(ofRoom(receiver.events(), room)), expected, `${room}: 15 visits, in order`)
    }
  })
}
