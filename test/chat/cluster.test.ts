import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, modes, servicesSkipReason } from '../helper.js'
import { createStore } from '../../src/store/index.js'
import { createInstanceLifecycle } from '../../src/instance/lifecycle.js'
import { createPresence } from '../../src/presence/service.js'
import { bearer, ChatClient, createChannel, createGroup, crossReady, newUser } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

const PER_SENDER = 25

for (const mode of modes()) {
  t.test(`${mode}: two senders${mode === 'services' ? ' on two instances' : ''}: one order everywhere, increasing seq, all in history after a restart`, async (t) => {
    const first = await buildTestApp(t, { mode })
    // Embedded mode has one process-local store and adapter: its "cluster" is one instance.
    const second = mode === 'services' ? await buildTestApp(t, { mode, shared: { prefix: first.prefix } }) : first
    const [s1, s2, o1, o2] = [
      await newUser(first.app, 'Sender One'), await newUser(first.app, 'Sender Two'),
      await newUser(first.app, 'Observer One'), await newUser(first.app, 'Observer Two')
    ]
    const groupId = await createGroup(first.app, s1, [s2, o1, o2])
    const sender1 = await ChatClient.open(t, first.url, s1.token)
    const observer1 = await ChatClient.open(t, first.url, o1.token)
    const sender2 = await ChatClient.open(t, second.url, s2.token)
    const observer2 = await ChatClient.open(t, second.url, o2.token)
    if (mode === 'services') {
      // Both adapters read the stream before anything is sent.
      await crossReady(first.app, observer2)
      await crossReady(second.app, observer1)
    }
    const everyone = [sender1, sender2, observer1, observer2]
    for (const c of everyone) await c.ack('join_group', groupId)
    const info = await observer1.ack('get_room_info', { groupId })
    t.equal(info.onlineCount, 4, 'presence is shared: all four online, whichever instance answers')

    // Both senders at once, each without waiting for its acks.
    const sends = []
    for (let i = 1; i <= PER_SENDER; i++) {
      sends.push(sender1.ack('send_message', { groupId, content: `one #${i}` }))
      sends.push(sender2.ack('send_message', { groupId, content: `two #${i}` }))
    }
    const acks = await Promise.all(sends)
    const total = PER_SENDER * 2
    t.same(acks.map(a => a.seq).sort((x, y) => x - y), Array.from({ length: total }, (_, i) => i + 1), 'seqs 1..n, none twice, no gap')

    const orders = []
    for (const c of everyone) {
      const got = await c.until('message_received', total)
      const seqs = got.map(m => m.seq)
      t.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), 'seq increases in the order received')
      orders.push(got.map(m => m.id))
    }
    for (const order of orders.slice(1)) t.same(order, orders[0], 'every member received the same order')
    // each sender's own messages keep the order it sent them in
    const contents = sender1.all('message_received').map(m => m.content)
    t.same(contents.filter(c => c.startsWith('one')), Array.from({ length: PER_SENDER }, (_, i) => `one #${i + 1}`))

    // Restart: close the instances, build a new one on the same database.
    for (const c of everyone) c.close()
    await first.app.close()
    if (second !== first) await second.app.close()
    const restarted = await buildTestApp(t, { mode, shared: { prefix: first.prefix } })
    const res = await restarted.app.inject({ method: 'GET', url: `/api/groups/${groupId}/messages?limit=100`, headers: bearer(o2.token) })
    t.equal(res.statusCode, 200)
    const history = res.json().messages
    t.equal(history.length, total, 'history has every message')
    t.same(history.map((m: any) => m.id), [...orders[0]].reverse(), 'newest first, the order everyone saw')
    t.same(history.map((m: any) => m.seq), Array.from({ length: total }, (_, i) => total - i))
  })
}

if (modes().includes('services')) {
  t.test('services: users of a crashed instance leave their rooms, announced by a survivor', async (t) => {
    const ttlMs = 300
    const survivor = await buildTestApp(t, { mode: 'services', env: { INSTANCE_TTL_MS: String(ttlMs) }, presenceSweepMs: 50 })
    const watcher = await newUser(survivor.app, 'Watcher', 'watcher')
    const ghost = await newUser(survivor.app, 'Ghost', 'ghost')
    const groupId = await createGroup(survivor.app, watcher, [ghost])
    const channelId = await createChannel(survivor.app)
    const w = await ChatClient.open(t, survivor.url, watcher.token)
    await w.ack('presence:subscribe', { userIds: [ghost.user.id] })
    await w.ack('join_group', groupId)
    await w.ack('room:join', { roomId: channelId })
    await w.ack('join_room', 'haunted')
    // The ghost was connected once (its name is known), then its sockets lived on an instance that dies.
    const once = await ChatClient.open(t, survivor.url, ghost.token)
    once.close()
    await w.next('user:status', (d) => d.userId === ghost.user.id && d.status === 'offline')

    const store = await createStore({ redisUrl: process.env.REDIS_URL, prefix: survivor.prefix })
    t.teardown(() => store.close())
    const registry = createInstanceLifecycle({ store, instanceId: 'crashing-instance', ttlMs })
    await registry.start()
    const presence = createPresence({ store, lifecycle: registry })
    await presence.connect('ghost-socket', ghost.user.id)
    for (const scope of [`group:${groupId}`, `channel:${channelId}`, 'code:HAUNTED']) await presence.join('ghost-socket', scope)
    t.equal((await w.ack('get_room_info', { groupId })).onlineCount, 2, 'the ghost is online through the other instance')

    const mark = w.mark()
    registry.stopHeartbeat()
    t.same(await w.next('user_left_group', undefined, mark), { groupId, userId: ghost.user.id })
    t.same(await w.next('room_members_update', undefined, mark), { groupId, onlineMembers: [{ userId: watcher.user.id, userName: 'Watcher' }] })
    t.same(await w.next('user:left', undefined, mark), { roomId: channelId, userId: ghost.user.id, username: 'ghost' })
    t.same(await w.next('users_online', undefined, mark), [{ userId: watcher.user.id, username: 'watcher' }])
    t.same(await w.next('user:status', undefined, mark), { userId: ghost.user.id, status: 'offline' })
    t.equal((await w.ack('get_room_info', { groupId })).onlineCount, 1)
  })
}

export type { FastifyInstance }
