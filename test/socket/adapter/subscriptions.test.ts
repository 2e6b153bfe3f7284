import t from 'tap'
import { EventEmitter } from 'node:events'
import { createSubscriptions } from '../../../src/socket/adapter/subscriptions.js'
import type { RedisClient } from '../../../src/socket/adapter/restore.js'

/**
 * What the subscriptions do when Redis refuses an SSUBSCRIBE (a Redis Cluster still settling its
 * slots answers MOVED or CLUSTERDOWN). The Redis side here is a stand-in that fails the first
 * `failFirst` calls: the real cluster is what test/socket/adapter/sharded.test.ts and
 * test/cluster/ use; this checks the retry alone, which they cannot make happen on purpose.
 */
function refusingSubscriber (failFirst: number) {
  const emitter = new EventEmitter()
  const calls: string[] = []
  const subscriber = Object.assign(emitter, {
    async ssubscribe (channel: string) {
      calls.push(channel)
      if (calls.length <= failFirst) throw new Error(`MOVED 1234 127.0.0.1:7002 (attempt ${calls.length})`)
      return 1
    },
    async sunsubscribe () { return 1 }
  })
  return { subscriber: subscriber as unknown as RedisClient, emitter, calls }
}

// The retry timers are unref'd (they must not hold a closing server open): something else keeps this file's process alive.
const alive = setInterval(() => {}, 1_000)
t.teardown(() => { clearInterval(alive) })

t.test('a refused SSUBSCRIBE is sent again; the join waits for the answer that came', async (t) => {
  const { subscriber, emitter, calls } = refusingSubscriber(2)
  const errors: unknown[] = []
  const subs = createSubscriptions(subscriber, (err) => errors.push(err))
  const got: string[] = []
  await subs.add('room:a', (message) => got.push(message.toString()))
  t.equal(calls.length, 3, 'two refusals, then the subscription')
  t.equal(errors.length, 2, 'each refusal reported')
  emitter.emit('smessageBuffer', Buffer.from('room:a'), Buffer.from('hello'))
  t.same(got, ['hello'], 'the channel is heard')
})

t.test('after four refusals the join is answered, and the retries go on', async (t) => {
  const { subscriber, calls } = refusingSubscriber(5)
  const subs = createSubscriptions(subscriber, () => {})
  await subs.add('room:b', () => {})
  t.equal(calls.length, 4, 'answered after the fourth refusal')
  // Until the sixth attempt (the first Redis accepts), however late the timers run.
  for (let waited = 0; calls.length < 6 && waited < 30_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
  await new Promise((resolve) => setTimeout(resolve, 1_200))
  t.equal(calls.length, 6, 'retried in the background until Redis accepted, and not after')
})

t.test('a channel no longer wanted is not retried', async (t) => {
  const { subscriber, calls } = refusingSubscriber(10)
  const subs = createSubscriptions(subscriber, () => {})
  const handler = () => {}
  const joined = subs.add('room:c', handler)
  subs.remove('room:c', handler)
  await joined
  const seen = calls.length
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(calls.length, seen, 'no SSUBSCRIBE once it was removed')
  t.equal(subs.size, 0)
})
