import t from 'tap'
import { orderedRetry } from '../../src/socket/cross-instance.js'

// The ordering logic alone; test/cluster/failover.test.ts shows it on a real cluster failover.
t.test('orderedRetry: XADDs failing during a failover are retried, and land in the order they were called', async (t) => {
  let down = true
  const landed: number[] = []
  const pending: Array<() => void> = []
  // A node answers in order; while down, it refuses every command.
  const send = async (n: unknown) => await new Promise<number>((resolve, reject) => {
    pending.push(() => {
      if (down) reject(new Error('Connection is closed.'))
      else { landed.push(n as number); resolve(n as number) }
    })
    setImmediate(() => pending.shift()?.())
  })
  const xadd = orderedRetry(send, 5_000, 100, 5)
  const first = [1, 2, 3].map(n => xadd([n]))
  await new Promise((resolve) => setTimeout(resolve, 20))
  const later = [4, 5].map(n => xadd([n]))
  down = false
  t.same(await Promise.all([...first, ...later]), [1, 2, 3, 4, 5], 'each call gets its own reply')
  t.same(landed, [1, 2, 3, 4, 5], 'in the order called, those refused first included')
  t.same(await xadd([6]), 6, 'sent directly again once none waits')
})

t.test('orderedRetry: gives up after the window, and refuses beyond the backlog', async (t) => {
  const send = async () => { throw new Error('CLUSTERDOWN') }
  const xadd = orderedRetry(send, 30, 1, 5)
  const waiting = t.rejects(xadd([1]), /CLUSTERDOWN/, 'the failure, once the window is over')
  await new Promise((resolve) => setTimeout(resolve, 5))
  await t.rejects(xadd([2]), /too many broadcasts waiting/, 'the backlog is bounded')
  await waiting
})
