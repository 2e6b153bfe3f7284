import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, connect, connected, freshRedisPrefix, once, registerUser, servicesSkipReason } from '../../helper.js'

/**
 * Issue 18: /metrics counts what this instance published to Redis and received from it through
 * the sharded adapter, by kind of channel: a room's channel only while it has local members.
 */
async function counts (app: FastifyInstance): Promise<Record<string, number>> {
  const body = (await app.inject('/metrics')).body
  const value = (sample: string) => Number(body.split('\n').find(l => l.startsWith(`${sample} `))?.split(' ')[1] ?? NaN)
  return {
    room: value('roomwire_adapter_messages_received_total{channel="room"}'),
    namespace: value('roomwire_adapter_messages_received_total{channel="namespace"}'),
    published: value('roomwire_adapter_messages_published_total')
  }
}

const skip = servicesSkipReason()
if (skip) {
  t.test('embedded: no Redis, nothing published or received through it', async (t) => {
    const { app } = await buildTestApp(t, { mode: 'embedded' })
    t.same(await counts(app), { room: 0, namespace: 0, published: 0 })
  })
} else {
  t.test('services: room messages reach only the instance with members of the room', async (t) => {
    const shared = { prefix: freshRedisPrefix(), databaseName: 'fanout' }
    const withMembers = await buildTestApp(t, { mode: 'services', shared })
    const without = await buildTestApp(t, { mode: 'services', shared })
    const { token } = await registerUser(withMembers.app)
    const created = await withMembers.app.inject({ method: 'POST', url: '/api/channels', headers: { authorization: `Bearer ${token}` }, payload: { name: 'fanout' } })
    const roomId: string = created.json().channel.id
    const socket = connect(t, withMembers.url, { auth: { token } })
    await connected(socket)
    t.match(await socket.emitWithAck('room:join', { roomId }), { ok: true })
    const [a0, b0] = [await counts(withMembers.app), await counts(without.app)]
    for (const content of ['one', 'two', 'three']) {
      const delivered = once(socket, 'message')
      t.match(await socket.emitWithAck('message', { roomId, content }), { content })
      await delivered
    }
    const [a1, b1] = [await counts(withMembers.app), await counts(without.app)]
    t.ok(a1.published - a0.published >= 3, 'the messages were published')
    t.ok(a1.room - a0.room >= 3, 'and received back on the room channel by the instance with the member')
    t.equal(b1.room - b0.room, 0, 'the other instance received none of them')
  })
}
