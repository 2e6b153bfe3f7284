import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { SweepReport } from '../../src/presence/service.js'
import { eachBackend, until } from '../store/fixtures/backends.js'
import { startInstances, type Instance } from '../instance/fixtures/cluster.js'

const TTL_MS = 300

/** u1 only on the instance that will crash; u2 there and on a survivor; both in 'g1'. */
async function populate (crashing: Instance, survivor: Instance): Promise<void> {
  await crashing.presence.connect('c1', 'u1')
  await crashing.presence.connect('c2', 'u2')
  await survivor.presence.connect('s2', 'u2')
  await crashing.presence.join('c1', 'g1')
  await crashing.presence.join('c2', 'g1')
  await survivor.presence.join('s2', 'g1')
}

function checkReport (t: Test, report: SweepReport, crashed: Instance): void {
  t.equal(report.instanceId, crashed.instanceId)
  t.same(report.offline, ['u1'], 'u1 had no socket elsewhere')
  const left = [...report.left].sort((x, y) => x.userId.localeCompare(y.userId))
  t.same(left.map(({ scope, userId, last }) => ({ scope, userId, last })), [
    { scope: 'g1', userId: 'u1', last: true },
    { scope: 'g1', userId: 'u2', last: false }
  ], 'u1 left g1; u2 stays through the survivor')
}

eachBackend(t, async (t, { stores }) => {
  t.test('a silent instance is swept by the running sweepers, reported once', async (t) => {
    const [crashing, b, c] = await startInstances(t, await stores(3), TTL_MS, TTL_MS / 3)
    await populate(crashing, b)
    const reports: Array<[string, SweepReport]> = []
    for (const survivor of [b, c]) survivor.presence.onSweep((report) => reports.push([survivor.instanceId, report]))

    // The crash: no more heartbeats and no cleanup.
    crashing.registry.stopHeartbeat()
    const waited = await until(() => reports.length > 0, TTL_MS * 4, 'sweep report')
    t.ok(waited < TTL_MS * 2, `reported ${waited} ms after the last heartbeat (key lapses within ${TTL_MS} ms)`)
    await sleep(TTL_MS)
    t.equal(reports.length, 1, 'exactly one survivor reported it')
    checkReport(t, reports[0][1], crashing)

    t.same(await c.presence.members('g1'), [{ userId: 'u2', sockets: 1 }])
    t.same(await b.presence.onlineUsers(), ['u2'])
    t.same(await c.presence.socketsOf('u2'), ['s2'])
    t.notOk(await b.store.sIsMember('instances', crashing.instanceId), 'the dead instance left the registry')
    t.same(await b.store.scan(`instance:${crashing.instanceId}:*`), [])
    t.same(await b.store.scan('socket:c*'), [])
    await b.presence.disconnect('s2')
  })

  t.test('sweepers racing by hand: one report in total', async (t) => {
    const [crashing, b, c] = await startInstances(t, await stores(3), TTL_MS)
    await populate(crashing, c)
    crashing.registry.stopHeartbeat()
    await until(async () => !(await b.registry.isAlive(crashing.instanceId)), TTL_MS * 2, 'liveness expiry')

    const reports: SweepReport[] = []
    for (const survivor of [b, c]) survivor.presence.onSweep((report) => reports.push(report))
    const handled = await Promise.all([b.registry.sweep(), c.registry.sweep(), b.registry.sweep(), c.registry.sweep()])
    t.same(handled.flat(), [crashing.instanceId], 'four concurrent sweeps, one handled the dead instance')
    t.equal(reports.length, 1, 'four concurrent sweeps, one report')
    checkReport(t, reports[0], crashing)
    t.same(await b.registry.sweep(), [], 'nothing left to sweep')
    t.equal(await b.presence.count('g1'), 1)
    await c.presence.disconnect('s2')
    t.equal(await b.presence.count('g1'), 0)
  })
})
