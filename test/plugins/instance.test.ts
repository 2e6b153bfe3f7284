import { randomUUID } from 'node:crypto'
import t from 'tap'
import Fastify from 'fastify'
import configPlugin from '../../plugins/config.js'
import redisPlugin from '../../plugins/redis.js'
import storePlugin from '../../plugins/store.js'
import instancePlugin from '../../plugins/instance.js'

const REDIS_URL = process.env.REDIS_URL
const modes = REDIS_URL === undefined || REDIS_URL === '' ? ['memory'] : ['memory', 'redis']

for (const mode of modes) {
  t.test(`${mode}: the instance announces itself, runs its shutdown handlers on close and leaves`, async (t) => {
    const env: NodeJS.ProcessEnv = { INSTANCE_TTL_MS: '300', REDIS_KEY_PREFIX: `test:${randomUUID()}:` }
    if (mode === 'redis') env.REDIS_URL = REDIS_URL
    const app = Fastify()
    await app.register(configPlugin, { env, logLevel: 'silent', instanceId: 'solo' })
    await app.register(redisPlugin)
    await app.register(storePlugin)
    await app.register(instancePlugin, { sweepIntervalMs: 50 })
    t.teardown(() => app.close())
    await app.ready()

    t.equal(app.instances.instanceId, 'solo')
    t.equal(app.instances.ttlMs, 300)
    t.equal(await app.instances.isAlive('solo'), true)
    t.same(await app.store.sMembers('instances'), ['solo'])
    const seen: string[] = []
    app.instances.onShutdown(async () => { seen.push(String(await app.store.sIsMember('instances', 'solo'))) })

    // Keep the store open after the app closes to look at what the instance left.
    const store = app.store
    const keys = mode === 'redis' ? null : store
    await app.close()
    t.same(seen, ['true'], 'the handler ran while the instance was still registered')
    if (keys !== null) t.same(await keys.scan('instance*'), [], 'it left the registry')
  })
}
