import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import t from 'tap'
import Fastify from 'fastify'
import configPlugin from '../../plugins/config.js'
import redisPlugin from '../../plugins/redis.js'
import storePlugin from '../../plugins/store.js'

const REDIS_URL = process.env.REDIS_URL

async function bareApp (test: Pick<typeof t, 'teardown'>, env: NodeJS.ProcessEnv) {
  const app = Fastify()
  await app.register(configPlugin, { env, logLevel: 'silent' })
  await app.register(redisPlugin)
  await app.register(storePlugin)
  test.teardown(() => app.close())
  await app.ready()
  return app
}

t.test('without REDIS_URL: no connection, the in-process store', async (t) => {
  const app = await bareApp(t, { REDIS_KEY_PREFIX: 'p:' })
  t.equal(app.redis, null)
  t.equal(app.store.kind, 'memory')
  t.equal(app.store.prefix, 'p:')
  await app.store.set('k', 'v')
  t.equal(await app.store.get('k'), 'v')
})

t.test('an unreachable Redis fails start-up, saying where without the password', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(configPlugin, { env: { REDIS_URL: 'redis://:secret@127.0.0.1:1' }, logLevel: 'silent' })
  await t.rejects(async () => {
    await app.register(redisPlugin)
    await app.register(storePlugin)
    await app.ready()
  }, /Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/? is not reachable/)
})

t.test('with REDIS_URL: the store runs on the redis plugin\'s connection, which closes last', { skip: REDIS_URL === undefined || REDIS_URL === '' ? 'REDIS_URL not set' : false }, async (t) => {
  const prefix = `test:${randomUUID()}:`
  const app = Fastify()
  await app.register(configPlugin, { env: { REDIS_URL, REDIS_KEY_PREFIX: prefix }, logLevel: 'silent' })
  await app.register(redisPlugin)
  await app.register(storePlugin)
  await app.ready()
  const redis = app.redis
  t.ok(redis)
  t.equal(app.store.kind, 'redis')
  t.equal(app.store.redis, redis, 'the same connection')
  await app.store.set('k', 'v')
  t.equal(await redis?.get(`${prefix}k`), 'v', 'keys carry the prefix')
  await app.store.del('k')
  const ended = once(redis as NonNullable<typeof redis>, 'end')
  await app.close()
  await ended
  t.pass('closing the app quits the connection')
})
