import t from 'tap'
import { randomUUID } from 'node:crypto'
import { connected, servicesSkipReason } from '../helper.js'
import { startInstance, type Instance } from '../cluster/fixtures/processes.js'
import { token } from '../cluster/fixtures/clients.js'
import { ack, brief, chatSocket, instanceIdOf, ofRoom, outboxOf, sameCopies, startVerifyingReceiver, until, webhookEnv } from './process-fixtures.js'

/**
 * Issue #20's proof with real processes: two roomwire instances (dist/src/server.js) on one
 * Redis and one PostgreSQL, users joining through both, a receiver that verifies every
 * signature; then kill -9 of the instance holding the sender lease while a delivery is open.
 */
const skip = servicesSkipReason()
if (skip) {
  t.skip(skip, () => {})
} else {
  t.test('two instances: occupied once; kill -9 of the sender mid-delivery loses nothing, duplicates keep their ids, order per room holds', async (t) => {
    const receiver = await startVerifyingReceiver(t)
    // A request may stay open 4 s: long enough that the kill lands while one is open.
    const env = await webhookEnv(receiver.url, { WEBHOOK_TIMEOUT_MS: '4000' })
    // One after the other: two cold starts at once on a busy machine can miss the fixture's deadline.
    const a = await startInstance(t, env)
    const b = await startInstance(t, env)
    const outbox = await outboxOf(t, env.DATABASE_URL!)
    const byId = new Map<string, Instance>([[await instanceIdOf(a), a], [await instanceIdOf(b), b]])
    const tag = randomUUID().slice(0, 6).toUpperCase()
    const [R1, R2, R3] = ['R1', 'R2', 'R3'].map(r => `${r}${tag}`)

    // Each step waits until its events are committed, so the order per room is the order of the steps.
    let expected = 0
    const step = async (events: number, work: () => Promise<unknown>) => {
      await work()
      expected += events
      await until(async () => await outbox.written() >= expected, `${expected} events committed`)
    }
    const sockets = new Map<string, ReturnType<typeof chatSocket>>()
    const connect = (instance: Instance, name: string) => step(1, async () => {
      const socket = chatSocket(t, instance, token(name, name))
      sockets.set(name, socket)
      await connected(socket)
    })
    const join = (name: string, room: string, events: number) => step(events, () => ack(sockets.get(name)!, 'join_room', room))
    const leave = (name: string, room: string, events: number) => step(events, () => ack(sockets.get(name)!, 'leave_room', room))

    // Phase 1, receiver answering: alice through a, bob through b, into one room.
    await connect(a, 'alice')
    await connect(b, 'bob')
    await join('alice', R1, 2)
    await join('bob', R1, 1)
    await until(() => receiver.events().length >= expected, 'phase 1 delivered')
    t.same(brief(ofRoom(receiver.events(), R1)), ['room.occupied alice 1', 'member.added alice 1', 'member.added bob 2'],
      'occupied once, not once per instance')

    // Phase 2, receiver swallowing requests (reads, never answers): more traffic on both.
    receiver.mode = 'swallow'
    await connect(a, 'carol')
    await connect(b, 'dave')
    await connect(a, 'erin')
    await join('carol', R2, 2)
    await join('dave', R2, 1)
    await leave('carol', R2, 1)
    await join('erin', R2, 1)
    await until(() => receiver.hanging() >= 1, 'a delivery in flight')
    const holder = await outbox.holder()
    const dead = byId.get(holder!)!
    t.ok(dead, `the sender lease is held by an instance (${holder})`)
    const survivor = dead === a ? b : a
    const swallowed = receiver.recorded.filter(r => !r.answered).map(r => r.id)
    const open = receiver.hanging()
    dead.child.kill('SIGKILL')
    t.ok(open >= 1, `${open} request(s) of the sender open when it was killed`)
    t.equal(await dead.exited, 'SIGKILL', `kill -9 of the sender (instance ${dead === a ? 'a' : 'b'})`)
    receiver.mode = 'ok'

    // The survivor sweeps the dead instance's users (INSTANCE_TTL_MS) and takes over the lease.
    const deadUsers = dead === a ? ['alice', 'carol', 'erin'] : ['bob', 'dave']
    const inRooms = dead === a ? ['alice', 'erin'] : ['bob', 'dave']
    await step(inRooms.length + deadUsers.length, async () => {})
    // Phase 3, after the kill: new traffic on the survivor, the rest leave.
    await connect(survivor, 'frank')
    await join('frank', R3, 2)
    await leave('frank', R3, 2)
    const [live1, live2] = dead === a ? ['bob', 'dave'] : ['alice', 'erin']
    await leave(live1, R1, 2)
    await leave(live2, R2, 2)
    await until(() => receiver.events().length >= expected, `all ${expected} events delivered`)
    await until(async () => await outbox.holder() !== holder, 'the lease taken over')

    const events = receiver.events()
    t.equal(events.length, await outbox.written(), `every committed event arrived (${events.length})`)
    t.same(receiver.bad, [], 'every request verified with standardwebhooks')
    t.ok(sameCopies(receiver), 'copies of one event id are the same event')
    const resent = receiver.recorded.filter(r => r.answered).map(r => r.id)
    t.ok(swallowed.length > 0 && swallowed.every(id => resent.includes(id)), `the ${swallowed.length} swallowed delivery(ies) were sent again under the same webhook-id`)
    t.comment(`${receiver.copies().length} event copies for ${events.length} events (${receiver.copies().length - events.length} duplicates, each a copy under the id of its original)`)

    const [d1, d2] = dead === a ? ['alice', 'erin'] : ['bob', 'dave']
    t.same(brief(ofRoom(events, R1)), ['room.occupied alice 1', 'member.added alice 1', 'member.added bob 2',
      `member.removed ${d1} 1`, `member.removed ${live1} 0`, `room.vacated ${live1} 0`], 'R1 in order, the dead instance\'s user removed by the survivor')
    t.same(brief(ofRoom(events, R2)), ['room.occupied carol 1', 'member.added carol 1', 'member.added dave 2', 'member.removed carol 1',
      'member.added erin 2', `member.removed ${d2} 1`, `member.removed ${live2} 0`, `room.vacated ${live2} 0`], 'R2 in order')
    t.same(brief(ofRoom(events, R3)), ['room.occupied frank 1', 'member.added frank 1', 'member.removed frank 0', 'room.vacated frank 0'],
      'R3 (after the kill) in order')
    for (const user of deadUsers) {
      t.same(events.filter(e => e.room === undefined && e.userId === user).map(e => e.type), ['user.online', 'user.offline'], `${user}: online, then offline after the kill`)
    }
  })
}
