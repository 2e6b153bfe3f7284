import t from 'tap'
import { eachBackend } from '../store/fixtures/backends.js'
import { livenessKeys, startInstances } from '../instance/fixtures/cluster.js'

const byScopeAndUser = <T extends { scope: string, userId: string }>(list: T[]): T[] =>
  [...list].sort((x, y) => `${x.scope}/${x.userId}`.localeCompare(`${y.scope}/${y.userId}`))

eachBackend(t, async (t, { stores }) => {
  t.test('two instances: a user counts once; last only with the last socket', async (t) => {
    const cluster = await startInstances(t, await stores(2), 10_000)
    const [a, b] = cluster.map(({ presence }) => presence)

    t.same(await a.connect('sA1', 'u1'), { firstSocket: true }, 'first socket: came online')
    t.same(await b.connect('sB1', 'u1'), { firstSocket: false }, 'second socket on another instance')
    t.same(await a.connect('sA1', 'u1'), { firstSocket: false }, 'connect is idempotent')
    t.same(await b.onlineUsers(), ['u1'])
    t.equal(await a.isOnline('u1'), true)

    t.same(await a.join('sA1', 'g1'), { first: true, count: 1 })
    t.same(await b.join('sB1', 'g1'), { first: false, count: 1 }, 'same user through the other instance')
    t.same(await a.join('sA1', 'g1'), { first: false, count: 1 }, 'joining twice is idempotent')
    t.same(await a.join('sA1', 'g2'), { first: true, count: 1 })

    t.same(await b.connect('sB2', 'u2'), { firstSocket: true })
    t.same(await b.join('sB2', 'g1'), { first: true, count: 2 })
    t.same(await a.members('g1'), [{ userId: 'u1', sockets: 2 }, { userId: 'u2', sockets: 1 }])
    t.equal(await b.count('g1'), 2)
    t.same((await b.socketsOf('u1')).sort(), ['sA1', 'sB1'])
    t.same((await b.scopesOf('u1')).sort(), ['g1', 'g2'])
    t.same((await a.scopesOfSocket('sA1')).sort(), ['g1', 'g2'])
    t.equal(await b.userOf('sA1'), 'u1')
    t.same((await a.onlineUsers()).sort(), ['u1', 'u2'])

    t.same(await a.leave('sA1', 'g1'), { left: true, last: false, userId: 'u1', count: 2 }, 'u1 still there through sB1')
    t.same(await a.leave('sA1', 'g1'), { left: false, last: false, userId: 'u1', count: 2 }, 'leaving twice is a no-op')
    t.same(await b.disconnect('sB1'), {
      userId: 'u1',
      lastSocket: false,
      left: [{ scope: 'g1', userId: 'u1', last: true, count: 1 }]
    }, 'the last socket of u1 in g1 closes: u1 left g1, still online')
    t.equal(await a.isOnline('u1'), true)
    t.same(await a.disconnect('sA1'), {
      userId: 'u1',
      lastSocket: true,
      left: [{ scope: 'g2', userId: 'u1', last: true, count: 0 }]
    })
    t.equal(await b.isOnline('u1'), false)
    t.same(await b.onlineUsers(), ['u2'])

    t.same(await a.leave('nope', 'g1'), { left: false, last: false, userId: null, count: 1 })
    t.same(await a.disconnect('nope'), { userId: null, lastSocket: false, left: [] })
    await t.rejects(a.join('nope', 'g1'), /not connected/)
    await t.rejects(a.connect('sB2', 'u9'), /another user/)

    t.same(await b.disconnect('sB2'), { userId: 'u2', lastSocket: true, left: [{ scope: 'g1', userId: 'u2', last: true, count: 0 }] })
    t.equal(await a.count('g1'), 0)
    t.same((await cluster[0].store.scan('*')).sort(), livenessKeys(cluster), 'nothing left but liveness')
  })

  t.test('removeInstance drops this instance at once and reports it', async (t) => {
    const cluster = await startInstances(t, await stores(2), 10_000)
    const [a, b] = cluster.map(({ presence }) => presence)
    await a.connect('a1', 'u1')
    await b.connect('b1', 'u1')
    await a.connect('a2', 'u3')
    await a.join('a1', 'room')
    await b.join('b1', 'room')
    await a.join('a2', 'room')

    const report = await a.removeInstance()
    t.equal(report.instanceId, cluster[0].instanceId)
    t.same(report.offline, ['u3'])
    t.same(byScopeAndUser(report.left).map(({ scope, userId, last }) => ({ scope, userId, last })), [
      { scope: 'room', userId: 'u1', last: false },
      { scope: 'room', userId: 'u3', last: true }
    ])
    t.same(await b.members('room'), [{ userId: 'u1', sockets: 1 }])
    t.same(await b.onlineUsers(), ['u1'])
    t.same(await a.removeInstance(), { instanceId: cluster[0].instanceId, left: [], offline: [] }, 'nothing left to remove')
    t.same(await cluster[1].registry.sweep(), [], 'a live instance is not swept')
    await b.disconnect('b1')
  })
})
