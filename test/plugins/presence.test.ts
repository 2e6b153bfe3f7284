import { randomUUID } from 'node:crypto'
import t from 'tap'
import Fastify from 'fastify'
import configPlugin from '../../plugins/config.js'
import redisPlugin from '../../plugins/redis.js'
import storePlugin from '../../plugins/store.js'
import instancePlugin from '../../plugins/instance.js'
import presencePlugin, { type LeftReason } from '../../plugins/presence.js'
import { createInstanceLifecycle } from '../../src/instance/lifecycle.js'
import { createPresence, type ScopeLeft } from '../../src/presence/service.js'
import { until } from '../store/fixtures/backends.js'

const REDIS_URL = process.env.REDIS_URL
const modes = REDIS_URL === undefined || REDIS_URL === '' ? ['memory'] : ['memory', 'redis']
const TTL_MS = 300

async function bareApp (test: Pick<typeof t, 'teardown'>, mode: string) {
  const env: NodeJS.ProcessEnv = { INSTANCE_TTL_MS: String(TTL_MS), REDIS_KEY_PREFIX: `test:${randomUUID()}:` }
  if (mode === 'redis') env.REDIS_URL = REDIS_URL
  const app = Fastify()
  await app.register(configPlugin, { env, logLevel: 'silent' })
  await app.register(redisPlugin)
  await app.register(storePlugin)
  await app.register(instancePlugin, { sweepIntervalMs: 30 })
  await app.register(presencePlugin)
  test.teardown(() => app.close())
  await app.ready()
  return app
}

for (const mode of modes) {
  t.test(`${mode}: a dead instance's users leave through onLeft, once, as a sweep`, async (t) => {
    const app = await bareApp(t, mode)
    const left: Array<[ScopeLeft[], LeftReason]> = []
    app.presenceHub.onLeft((entries, reason) => { left.push([entries, reason]) })

    // Another instance on the same store, which then crashes.
    const doomed = createInstanceLifecycle({ store: app.store, instanceId: `doomed-${randomUUID().slice(0, 8)}`, ttlMs: TTL_MS })
    await doomed.start()
    const doomedPresence = createPresence({ store: app.store, lifecycle: doomed })
    await doomedPresence.connect('ghost', 'u1')
    await doomedPresence.join('ghost', 'room')
    doomed.stopHeartbeat()

    await until(() => left.length > 0, TTL_MS * 4, 'sweep')
    t.same(left, [[[{ scope: 'room', userId: 'u1', last: true, count: 0 }], 'sweep']])
    t.same(await app.presence.onlineUsers(), [])
    await doomedPresence.close()
  })

  t.test(`${mode}: on close this instance's users leave through onLeft as a shutdown`, async (t) => {
    const app = await bareApp(t, mode)
    const left: Array<[ScopeLeft[], LeftReason]> = []
    app.presenceHub.onLeft((entries, reason) => { left.push([entries, reason]) })
    await app.presence.connect('s1', 'u1')
    await app.presence.join('s1', 'room')
    let tracked = false
    app.presenceHub.track(new Promise((resolve) => setTimeout(resolve, 50)).then(() => { tracked = true })).catch(() => {})

    await app.close()
    t.ok(tracked, 'tracked work finished first')
    t.same(left, [[[{ scope: 'room', userId: 'u1', last: true, count: 0 }], 'shutdown']])
  })
}
