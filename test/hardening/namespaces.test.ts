import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t, { type Test } from 'tap'
import type { Namespace, Server, ServerOptions } from 'socket.io'
import { SessionAwareAdapter } from 'socket.io-adapter'
import { createAdapter } from '@socket.io/redis-streams-adapter'
import { Redis } from 'ioredis'
import { buildTestApp, connect, connected, freshRedisPrefix, modes, once, servicesSkipReason, type Mode } from '../helper.js'
import { createRoom } from '../public-rooms/fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const nsps = (io: Server) => io._nsps

const ROUNDS = 4

/**
 * Connects to `/public-room/:id` and disconnects, ROUNDS times (a new room each time), and
 * counts the namespaces Socket.IO dropped once empty that garbage collection then reclaimed.
 * Each one used to stay reachable from its adapter's timer (in-memory adapter) or pub/sub
 * listener (Redis Streams adapter): the soak (bench/soak.ts) found it as heap growth.
 */
async function namespacesCollected (t: Test, mode: Mode, room: 'existing' | 'made-up', socketIo?: Partial<ServerOptions>) {
  const { app, url } = await buildTestApp(t, { mode, ...(socketIo ? { socketIo } : {}) })
  const refs: Array<WeakRef<Namespace>> = []
  const main = app.io.of('/') as unknown as { on (event: string, listener: (nsp: Namespace) => void): void }
  main.on('new_namespace', (nsp) => { if (nsp.name.startsWith('/public-room/')) refs.push(new WeakRef(nsp)) })
  for (let i = 0; i < ROUNDS; i++) {
    const name = `/public-room/${room === 'existing' ? (await createRoom(app)).id : randomUUID()}`
    const client = connect(t, `${url}${name}`)
    const error = once(client, 'error')
    await connected(client)
    if (room === 'made-up') t.equal((await error).code, 'ROOM_NOT_FOUND', 'a made-up room id is refused')
    else error.catch(() => {})
    client.disconnect()
    const deadline = Date.now() + 5_000
    while (nsps(app.io).has(name) && Date.now() < deadline) await sleep(10)
    t.notOk(nsps(app.io).has(name), 'Socket.IO dropped the empty namespace')
  }
  t.equal(refs.length, ROUNDS, 'one namespace a room')
  const alive = () => refs.filter((ref) => ref.deref() !== undefined).length
  // deref() keeps its target alive until the current job ends: never in the same job as gc().
  for (let i = 0; i < 10; i++) {
    await sleep(25)
    gc()
    await sleep(25)
    if (alive() === 0) break
  }
  await sleep(25)
  return ROUNDS - alive()
}

for (const mode of modes()) {
  t.test(`${mode}: a public room's namespace dropped once empty is garbage-collected`, async (t) => {
    // The most recent one may still be referenced from a buffer or cache; the others must not be.
    t.ok(await namespacesCollected(t, mode, 'existing') >= ROUNDS - 1, 'collected after their last client left')
  })

  t.test(`${mode}: the namespace of a made-up room id is garbage-collected`, async (t) => {
    t.ok(await namespacesCollected(t, mode, 'made-up') >= ROUNDS - 1, 'collected after the refusal')
  })
}

t.test('embedded: with socket.io-adapter\'s own SessionAwareAdapter the namespace stays reachable (the leak this guards)', async (t) => {
  const socketIo = { adapter: SessionAwareAdapter as unknown as ServerOptions['adapter'] }
  t.equal(await namespacesCollected(t, 'embedded', 'existing', socketIo), 0, 'its close() leaves the cleanup timer holding every one')
})

t.test('services: with @socket.io/redis-streams-adapter\'s own close() the namespace stays reachable (the leak this guards)', { skip: servicesSkipReason() }, async (t) => {
  const client = new Redis(process.env.REDIS_URL!)
  const prefix = freshRedisPrefix()
  t.teardown(() => { client.disconnect() })
  const adapter = createAdapter(client, { streamName: `${prefix}socket.io`, channelPrefix: `${prefix}socket.io`, sessionKeyPrefix: `${prefix}sio:session:` })
  const socketIo = { adapter: adapter as unknown as ServerOptions['adapter'] }
  // An embedded app (memory store) on that adapter: in services mode the plugin would make its own as well.
  t.equal(await namespacesCollected(t, 'embedded', 'existing', socketIo), 0, 'its pub/sub listener holds every one')
})
