import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { loadConfig, loadDotEnv } from '../../src/config.js'
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
