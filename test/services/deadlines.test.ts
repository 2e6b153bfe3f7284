import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createDeadlines, POP_BATCH } from '../../src/services/deadlines.js'
import { eachBackend, until } from '../store/fixtures/backends.js'

eachBackend(t, async (t, { stores }) => {
  const [storeA, storeB] = await stores(2)
  let clock = 1_000
  const now = (): number => clock

  t.test('schedule, cancel and pop due members exactly once', async (t) => {
    const a = createDeadlines({ store: storeA, name: 'grace', sweepIntervalMs: 1000, now })
    const b = createDeadlines({ store: storeB, name: 'grace', sweepIntervalMs: 1000, now })
    await a.schedule('room1|p1', 1100)
    await b.schedule('room1|p2', 1200)
    await a.schedule('room2|p3', 1300)
    await a.schedule('room2|p4', 5000)
    t.equal(await b.dueAt('room1|p1'), 1100)
    t.equal(await b.cancel('room2|p3'), true, 'a pending deadline is cancelled')
    t.equal(await a.cancel('room2|p3'), false, 'only once')
    await b.schedule('room1|p2', 4000)
    t.same(await a.popDue(), [], 'nothing due yet')

    clock = 4500
    const popped = (await Promise.all([a.popDue(), b.popDue(), a.popDue()])).flat().sort()
    t.same(popped, ['room1|p1', 'room1|p2'], 'each due member popped by one caller')
    t.equal(await a.dueAt('room1|p1'), null)
    clock = 5000
    t.same(await b.popDue(), ['room2|p4'])
    t.same(await storeA.scan('deadlines:*'), [], 'an empty queue leaves no key')
  })

  t.test('popDue drains more than one batch', async (t) => {
    const a = createDeadlines({ store: storeA, name: 'many', sweepIntervalMs: 1000, now })
    const count = POP_BATCH * 2 + 7
    await Promise.all(Array.from({ length: count }, async (_, i) => { await a.schedule(`m${i}`, clock - i) }))
    t.equal((await a.popDue()).length, count)
  })

  t.test('the sweepers fire each deadline once across instances', async (t) => {
    const fired: string[] = []
    for (const store of [storeA, storeB]) {
      const deadlines = createDeadlines({ store, name: 'timed', sweepIntervalMs: 10 })
      deadlines.onDue((member) => fired.push(member))
      deadlines.start()
      t.teardown(async () => { await deadlines.close() })
    }
    const c = createDeadlines({ store: storeB, name: 'timed', sweepIntervalMs: 10 })
    await c.schedule('soon', Date.now() + 30)
    await c.schedule('cancelled', Date.now() + 30)
    await c.cancel('cancelled')
    await until(() => fired.length > 0, 1000, 'deadline')
    await sleep(50)
    t.same(fired, ['soon'])
  })
})
