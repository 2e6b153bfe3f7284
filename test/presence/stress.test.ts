import t from 'tap'
import type { Presence } from '../../src/presence/service.js'
import { eachBackend, random } from '../store/fixtures/backends.js'
import { livenessKeys, startInstances } from '../instance/fixtures/cluster.js'

const SOCKETS = 100
const USERS = 30
const SCOPES = ['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7']
const MIDDLE_OPS = 8 // per socket, between its connect and its disconnect: 100 × 10 = 1,000 ops

interface Tally { first: Map<string, number>, last: Map<string, number>, online: Map<string, number>, offline: Map<string, number>, ops: number }

const bump = (map: Map<string, number>, key: string): void => { map.set(key, (map.get(key) ?? 0) + 1) }

/** One socket's life: connect, random joins and leaves, disconnect; each op awaited in turn. */
async function socketLife (presence: Presence, socketId: string, userId: string, next: () => number, tally: Tally): Promise<void> {
  if ((await presence.connect(socketId, userId)).firstSocket) bump(tally.online, userId)
  tally.ops++
  for (let i = 0; i < MIDDLE_OPS; i++) {
    const scope = SCOPES[Math.floor(next() * SCOPES.length)]
    if (next() < 0.6) {
      if ((await presence.join(socketId, scope)).first) bump(tally.first, `${userId}/${scope}`)
    } else {
      const { last } = await presence.leave(socketId, scope)
      if (last) bump(tally.last, `${userId}/${scope}`)
    }
    tally.ops++
  }
  const { lastSocket, left } = await presence.disconnect(socketId)
  if (lastSocket) bump(tally.offline, userId)
  for (const entry of left) if (entry.last) bump(tally.last, `${userId}/${entry.scope}`)
  tally.ops++
}

eachBackend(t, async (t, { stores }) => {
  t.test('1,000 interleaved operations from two instances leave nothing behind', async (t) => {
    const cluster = await startInstances(t, await stores(2), 10_000)
    const next = random(20240601)
    const tally: Tally = { first: new Map(), last: new Map(), online: new Map(), offline: new Map(), ops: 0 }

    // Every socket's chain runs at once, half of them through each instance.
    await Promise.all(Array.from({ length: SOCKETS }, async (_, i) => {
      const userId = `u${Math.floor(next() * USERS)}`
      await socketLife(cluster[i % 2].presence, `s${i}`, userId, random(i + 1), tally)
    }))

    t.equal(tally.ops, 1000, '1,000 operations ran')
    t.ok(tally.first.size > 0, 'scopes were joined')
    t.same(Object.fromEntries(tally.last), Object.fromEntries(tally.first),
      'every user\'s first socket in a scope was matched by exactly one last')
    t.same(Object.fromEntries(tally.offline), Object.fromEntries(tally.online),
      'every user came online and went offline as often')
    for (const scope of SCOPES) t.equal(await cluster[0].presence.count(scope), 0, `${scope} is empty`)
    t.same(await cluster[1].presence.onlineUsers(), [])
    t.same((await cluster[0].store.scan('*')).sort(), livenessKeys(cluster), 'only liveness keys remain')
  })
})
