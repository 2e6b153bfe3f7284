import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createTyping, type TypingEntry } from '../../src/chat/typing.js'
import { eachBackend, until } from '../store/fixtures/backends.js'

eachBackend(t, async (t, { stores }) => {
  const [storeA, storeB] = await stores(2)
  let clock = 1_700_000_000_000
  const now = (): number => clock
  const a = createTyping({ store: storeA, ttlMs: 10_000, throttleMs: 3000, now })
  const b = createTyping({ store: storeB, ttlMs: 10_000, throttleMs: 3000, now })

  t.test('throttle: broadcast when not typing, then at most once per throttle', async (t) => {
    t.same(await a.start('g1', 'u1'), { broadcast: true })
    clock += 1000
    t.same(await b.start('g1', 'u1'), { broadcast: false }, 'refresh through another instance')
    clock += 1999
    t.same(await a.start('g1', 'u1'), { broadcast: false })
    clock += 1
    t.same(await a.start('g1', 'u1'), { broadcast: true }, 'throttle passed')
    t.same(await b.start('g1', 'u2'), { broadcast: true }, 'another user is independent')
    t.same(await b.stop('g1', 'u1'), { wasTyping: true })
    t.same(await a.stop('g1', 'u1'), { wasTyping: false }, 'stopped once')
    t.same(await a.start('g1', 'u1'), { broadcast: true }, 'typing again after a stop')
    await a.clear('u1', ['g1'])
    await a.clear('u2', ['g1'])
  })

  t.test('clear stops the user wherever it was typing', async (t) => {
    await a.start('g1', 'u1')
    await b.start('g2', 'u1')
    await a.start('g1', 'u2')
    t.same((await b.clear('u1', ['g1', 'g2', 'g3'])).sort(), ['g1', 'g2'])
    t.same(await b.clear('u1', ['g1', 'g2']), [])
    t.same(await a.clear('u1', []), [])
    t.same(await b.stop('g1', 'u2'), { wasTyping: true })
    t.same(await storeA.scan('typing:*'), [])
  })

  t.test('a send clears only what this instance started (no store round trip otherwise)', async (t) => {
    t.same(await a.clearStartedHere('u1', ['g1']), [], 'nothing started: nothing cleared')
    await a.start('g1', 'u1')
    await b.start('g2', 'u1')
    t.same(await a.clearStartedHere('u1', ['g1', 'g2']), ['g1'], "a clears its own start, not b's")
    t.equal(await storeA.exists('typing:g1:u1'), false, 'and its key is gone')
    t.equal(await storeA.exists('typing:g2:u1'), true, "b's indicator is still on")
    t.same(await a.clearStartedHere('u1', ['g1']), [], 'once')
    t.same(await b.clearStartedHere('u1', ['g2']), ['g2'])
    await a.start('g1', 'u1')
    t.same(await a.stop('g1', 'u1'), { wasTyping: true })
    t.same(await a.clearStartedHere('u1', ['g1']), [], 'a stop forgets the start')
    await a.start('g1', 'u1')
    clock += 10_000
    t.same(await a.clearStartedHere('u1', ['g1']), [], 'a start that ran out is not cleared again')
    await a.sweep()
    t.same(await storeA.scan('typing:*'), [], 'nothing left')
  })

  t.test('expiry is reported once, by whichever sweep pops it', async (t) => {
    await a.start('g1', 'u1')
    await b.start('g2', 'u2')
    clock += 5000
    await a.start('g2', 'u2') // refreshed: expires later than u1's
    clock += 5001
    const first = (await Promise.all([a.sweep(), b.sweep(), a.sweep()])).flat()
    t.same(first, [{ scope: 'g1', userId: 'u1' }], 'u1 expired, reported once')
    t.equal(await storeA.exists('typing:g1:u1'), false, 'its key is gone')
    t.same(await a.stop('g1', 'u1'), { wasTyping: false }, 'no longer typing')
    clock += 5000
    t.same((await Promise.all([b.sweep(), a.sweep()])).flat(), [{ scope: 'g2', userId: 'u2' }])
    t.same(await storeA.scan('typing:*'), [], 'nothing left')
  })

  t.test('the sweepers report expiry on their own, once across instances', async (t) => {
    const options = { ttlMs: 60, throttleMs: 30, sweepIntervalMs: 10 }
    const x = createTyping({ store: storeA, ...options })
    const y = createTyping({ store: storeB, ...options })
    const expired: TypingEntry[] = []
    for (const typing of [x, y]) {
      typing.onExpired((entry) => expired.push(entry))
      typing.start()
      t.teardown(async () => { await typing.close() })
    }
    await x.start('room', 'u9')
    await y.start('room', 'u8')
    t.same(await y.stop('room', 'u8'), { wasTyping: true }, 'a stopped indicator does not expire')
    await until(() => expired.length > 0, 1000, 'typing expiry')
    await sleep(50)
    t.same(expired, [{ scope: 'room', userId: 'u9' }])
    t.throws(() => (x.start as (scope: string) => unknown)('room'), /needs a scope and a user id/)
  })
})
