import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { loadConfig, loadDotEnv, parseClusterNodes } from '../../src/config.js'
import { createStore } from '../../src/store/index.js'

t.test('a closed set of values is listed in the error, on one line', async (t) => {
  t.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), { message: 'Invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")' })
  t.throws(() => loadConfig({ DOCS_ENABLED: 'yes' }), { message: 'Invalid configuration: DOCS_ENABLED must be true or false (got "yes")' })
  t.throws(() => loadConfig({ PORT: 'eighty' }), { message: /^Invalid configuration: PORT must be integer \(got "eighty"\)$/ })
})

t.test('REDIS_URL: the database must be a number', async (t) => {
  t.throws(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379/cache' }), /REDIS_URL must end with a database number or nothing/)
  t.equal(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379/3' }).redisUrl, 'redis://127.0.0.1:6379/3')
  t.equal(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl, 'redis://127.0.0.1:6379')
})

t.test('REDIS_CLUSTER_NODES: host:port entries, not beside REDIS_URL, one-line errors', async (t) => {
  const nodes = '127.0.0.1:7001, redis-b.internal:7002,[::1]:7003'
  t.equal(loadConfig({ REDIS_CLUSTER_NODES: nodes }).redisClusterNodes, nodes)
  t.same(parseClusterNodes(nodes), [{ host: '127.0.0.1', port: 7001 }, { host: 'redis-b.internal', port: 7002 }, { host: '::1', port: 7003 }])
  t.equal(loadConfig({}, { redisClusterNodes: '127.0.0.1:7001' }).redisClusterNodes, '127.0.0.1:7001', 'a plugin option too')
  t.throws(() => loadConfig({ REDIS_CLUSTER_NODES: nodes, REDIS_URL: 'redis://127.0.0.1:6379' }),
    { message: 'Invalid configuration: REDIS_CLUSTER_NODES and REDIS_URL are both set: use REDIS_URL for one Redis or REDIS_CLUSTER_NODES for a Redis Cluster, not both' })
  for (const bad of ['127.0.0.1', '127.0.0.1:7001,', 'redis://127.0.0.1:7001', '127.0.0.1:0', '127.0.0.1:70000', 'a b:1']) {
    t.throws(() => loadConfig({ REDIS_CLUSTER_NODES: bad }), { message: /^Invalid configuration: REDIS_CLUSTER_NODES must be host:port,host:port,… \(got .*\)$/ }, `refused: ${bad}`)
  }
  t.throws(() => loadConfig({ REDIS_CLUSTER_NODES: nodes, REDIS_KEY_PREFIX: 'a{b' }), { message: /^Invalid configuration: REDIS_KEY_PREFIX must not hold \{ or \} but as a hash tag/ })
  t.equal(loadConfig({ REDIS_CLUSTER_NODES: nodes, REDIS_KEY_PREFIX: 'app:{eu}:' }).redisKeyPrefix, 'app:{eu}:', 'a tag of its own is kept')
})

t.test('.env is read when present and does not override what is set', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-env-'))
  const file = join(dir, '.env')
  t.equal(loadDotEnv(file), false, 'no file: nothing read')
  writeFileSync(file, 'RW_TEST_FROM_FILE=file\nRW_TEST_ALREADY_SET=file\n')
  process.env.RW_TEST_ALREADY_SET = 'env'
  t.teardown(() => { delete process.env.RW_TEST_FROM_FILE; delete process.env.RW_TEST_ALREADY_SET })
  t.equal(loadDotEnv(file), true)
  t.equal(process.env.RW_TEST_FROM_FILE, 'file')
  t.equal(process.env.RW_TEST_ALREADY_SET, 'env')
})

const redisUrl = process.env.REDIS_URL
t.test('the store uses the database REDIS_URL names, or refuses one the server does not have', { skip: redisUrl ? false : 'REDIS_URL not set' }, async (t) => {
  const base = new URL(redisUrl as string)
  base.pathname = '/99'
  await t.rejects(createStore({ redisUrl: base.toString() }), /refused database 99 .*DB index is out of range/)

  base.pathname = '/2'
  const store = await createStore({ redisUrl: base.toString(), prefix: `rw_test_db_${process.pid}:` })
  t.teardown(() => store.close())
  const client = store.redis as Redis
  t.match(await client.client('INFO'), / db=2 /, 'the connection is on db 2')
})
