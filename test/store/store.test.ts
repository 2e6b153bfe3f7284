import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createStore } from '../../src/store/index.js'
import { createMemoryStore } from '../../src/store/memory.js'
import type { Script } from '../../src/store/types.js'
import { eachBackend } from './fixtures/backends.js'

const echoScript: Script = {
  name: 'test.echo',
  lua: `
redis.call('SADD', KEYS[1], ARGV[2])
return {KEYS[1], ARGV[1], tonumber(ARGV[3]) * 2, redis.call('SMEMBERS', KEYS[1]), redis.call('GET', KEYS[2]) or 'none'}`,
  local (ops, [setKey, missing], [prefix, member, n]) {
    ops.sAdd(setKey, member)
    return [setKey, prefix, Number(n) * 2, ops.sMembers(setKey), ops.get(missing) ?? 'none']
  }
}

const failScript: Script = {
  name: 'test.fail',
  lua: "return redis.call('INCRBY', KEYS[1], 1)",
  local (ops, [key]) { return ops.incrBy(key, 1) }
}

eachBackend(t, async (t, { prefix, stores }) => {
  const [store] = await stores(1)

  t.test('strings, counters and expiry', async (t) => {
    t.equal(await store.get('s:missing'), null)
    t.equal(await store.set('s:a', 'one'), true)
    t.equal(await store.get('s:a'), 'one')
    t.equal(await store.pttl('s:a'), -1, 'no expiry')
    t.equal(await store.pttl('s:missing'), -2, 'missing')
    t.equal(await store.set('s:a', 'two', { onlyIfAbsent: true }), false)
    t.equal(await store.get('s:a'), 'one')
    t.equal(await store.set('s:b', 'x', { onlyIfAbsent: true, ttlMs: 40 }), true)
    const ttl = await store.pttl('s:b')
    t.ok(ttl > 0 && ttl <= 40, `pttl ${ttl} within the ttl`)
    t.equal(await store.exists('s:b'), true)
    await sleep(60)
    t.equal(await store.get('s:b'), null, 'expired')
    t.equal(await store.exists('s:b'), false)
    t.equal(await store.pttl('s:b'), -2)

    t.equal(await store.incrBy('s:n', 5), 5)
    t.equal(await store.pexpire('s:n', 10_000), true)
    t.equal(await store.incrBy('s:n', -2), 3)
    t.ok(await store.pttl('s:n') > 9000, 'INCRBY keeps the expiry')
    await store.set('s:n', '7')
    t.equal(await store.pttl('s:n'), -1, 'SET drops the expiry')
    t.equal(await store.pexpire('s:missing', 100), false)
    await t.rejects(store.incrBy('s:a', 1), /not an integer/)
    await t.rejects(store.set('s:c', 'v', { ttlMs: 0 }), RangeError)

    t.equal(await store.del('s:a', 's:n', 's:missing'), 2)
    t.equal(await store.exists('s:a'), false)
  })

  t.test('sets disappear with their last member', async (t) => {
    t.equal(await store.sAdd('set', 'a', 'b', 'a'), 2)
    t.equal(await store.sAdd('set', 'b', 'c'), 1)
    t.same((await store.sMembers('set')).sort(), ['a', 'b', 'c'])
    t.equal(await store.sCard('set'), 3)
    t.equal(await store.sIsMember('set', 'b'), true)
    t.equal(await store.sIsMember('set', 'z'), false)
    t.equal(await store.sRem('set', 'a', 'z'), 1)
    t.equal(await store.sRem('set', 'b', 'c'), 2)
    t.equal(await store.exists('set'), false)
    t.equal(await store.sCard('set'), 0)
    t.same(await store.sMembers('set'), [])
    t.equal(await store.sAdd('set'), 0, 'adding nothing is a no-op')
  })

  t.test('hashes', async (t) => {
    await store.hSet('h', { userId: 'u1', instance: 'i1' })
    await store.hSet('h', { instance: 'i2' })
    t.same(await store.hGetAll('h'), { userId: 'u1', instance: 'i2' })
    t.equal(await store.hGet('h', 'userId'), 'u1')
    t.equal(await store.hGet('h', 'nope'), null)
    t.equal(await store.hLen('h'), 2)
    t.equal(await store.hDel('h', 'userId', 'nope'), 1)
    t.equal(await store.hDel('h', 'instance'), 1)
    t.equal(await store.exists('h'), false)
    t.same(await store.hGetAll('h'), {})
  })

  t.test('sorted sets', async (t) => {
    await store.zAdd('z', 3, 'c')
    await store.zAdd('z', 1, 'b')
    await store.zAdd('z', 1, 'a')
    await store.zAdd('z', 1_700_000_000_123, 'late')
    t.same(await store.zRangeByScore('z', -Infinity, Infinity), ['a', 'b', 'c', 'late'], 'by score, then member')
    t.same(await store.zRangeByScore('z', 1, 3), ['a', 'b', 'c'])
    t.equal(await store.zScore('z', 'late'), 1_700_000_000_123, 'ms timestamps are exact')
    t.equal(await store.zScore('z', 'nope'), null)
    await store.zAdd('z', 5, 'a')
    t.same(await store.zRangeByScore('z', 2, 10), ['c', 'a'], 'zAdd moves a member')
    t.equal(await store.zCard('z'), 4)
    t.equal(await store.zRem('z', 'a', 'b', 'c', 'late', 'nope'), 4)
    t.equal(await store.exists('z'), false)
  })

  t.test('sets and hashes keep their content as they grow past a few entries and shrink again', async (t) => {
    const members = Array.from({ length: 20 }, (_, i) => `m${i}`)
    for (const member of members) await store.sAdd('grow:set', member)
    t.equal(await store.sAdd('grow:set', 'm3', 'm19', 'm20'), 1)
    t.equal(await store.sCard('grow:set'), 21)
    t.equal(await store.sIsMember('grow:set', 'm17'), true)
    t.equal(await store.sRem('grow:set', ...members), 20)
    t.same(await store.sMembers('grow:set'), ['m20'])
    t.equal(await store.sRem('grow:set', 'm20'), 1)
    t.equal(await store.exists('grow:set'), false)

    const fields = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, `v${i}`]))
    await store.hSet('grow:hash', { f0: 'first' })
    await store.hSet('grow:hash', fields)
    t.same(await store.hGetAll('grow:hash'), fields, 'a field set again takes the new value')
    await store.hSet('grow:hash', { f11: 'changed', extra: 'x' })
    t.equal(await store.hGet('grow:hash', 'f11'), 'changed')
    t.equal(await store.hLen('grow:hash'), 13)
    t.equal(await store.hDel('grow:hash', ...Object.keys(fields), 'nope'), 12)
    t.same(await store.hGetAll('grow:hash'), { extra: 'x' })
    t.equal(await store.hDel('grow:hash', 'extra', 'extra'), 1)
    t.equal(await store.exists('grow:hash'), false)
  })

  t.test('a long JSON value reads back as written', async (t) => {
    const value = JSON.stringify({ userId: 'u'.repeat(40), displayName: 'Ünïcödé ✓', list: Array.from({ length: 30 }, (_, i) => i) })
    await store.set('json', value)
    await store.hSet('json:h', { a: value })
    t.equal(await store.get('json'), value)
    t.equal(await store.hGet('json:h', 'a'), value)
    await store.del('json', 'json:h')
  })

  t.test('wrong type errors as Redis does', async (t) => {
    await store.set('wt', 'v')
    await t.rejects(store.sAdd('wt', 'x'), /WRONGTYPE/)
    await t.rejects(store.hGet('wt', 'x'), /WRONGTYPE/)
    await t.rejects(store.zAdd('wt', 1, 'x'), /WRONGTYPE/)
    await store.sAdd('wt:set', 'a')
    await t.rejects(store.get('wt:set'), /WRONGTYPE/)
    await t.rejects(store.hSet('wt:set', { f: 'v' }), /WRONGTYPE/)
    await store.pexpire('wt:set', 60_000)
    await store.set('wt:set', 'now a string')
    t.equal(await store.get('wt:set'), 'now a string', 'SET replaces a value of any kind')
    t.equal(await store.pttl('wt:set'), -1, 'and its expiry')
    await store.del('wt', 'wt:set')
  })

  t.test('scan lists logical keys by glob', async (t) => {
    await store.set('scan:one', '1')
    await store.set('scan:two', '2')
    await store.sAdd('scan:set:x', 'm')
    await store.set('other', '3', { ttlMs: 20 })
    t.same((await store.scan('scan:*')).sort(), ['scan:one', 'scan:set:x', 'scan:two'])
    t.same((await store.scan('scan:t?o')), ['scan:two'])
    t.same((await store.scan('scan:[o]ne')), ['scan:one'])
    await sleep(40)
    t.same(await store.scan('other'), [], 'expired keys are not listed')
    await store.del('scan:one', 'scan:two', 'scan:set:x')
    t.same(await store.scan('*'), [])
  })

  t.test('scripts see prefixed KEYS and the prefix as ARGV[1]', async (t) => {
    t.same(await store.run(echoScript, ['sc:set', 'sc:missing'], ['m', 21]),
      [`${prefix}sc:set`, prefix, 42, ['m'], 'none'])
    await store.set('sc:str', 'not a number')
    await t.rejects(store.run(failScript, ['sc:str'], []), /not an integer/)
    await store.del('sc:set', 'sc:str')
  })

  t.test('ping', async (t) => {
    await t.resolves(store.ping())
  })
})

t.test('memory store: expiry follows the injected clock', async (t) => {
  let clock = 1_000_000
  const store = createMemoryStore({ prefix: 'p:', now: () => clock })
  t.teardown(async () => { await store.close() })
  await store.set('k', 'v', { ttlMs: 1000 })
  await store.sAdd('s', 'a')
  await store.pexpire('s', 500)
  t.equal(await store.pttl('k'), 1000)
  clock += 600
  t.equal(await store.exists('s'), false)
  t.equal(await store.pttl('k'), 400)
  clock += 400
  t.equal(await store.get('k'), null)
  t.same(await store.scan('*'), [])
  await store.close()
  await t.rejects(store.ping(), /closed/)
})

t.test('createStore without a URL is the memory store', async (t) => {
  const store = await createStore({ prefix: 'x:' })
  t.equal(store.kind, 'memory')
  t.equal(store.prefix, 'x:')
  t.equal(store.redis, null)
  await store.close()
})

t.test('createStore says which Redis cannot be reached', async (t) => {
  const started = Date.now()
  const err = await createStore({ redisUrl: 'redis://:s3cret@127.0.0.1:1', connectTimeoutMs: 2000 })
    .then(() => null, (err: Error) => err)
  t.match(err?.message, /^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 is not reachable: /)
  t.notMatch(err?.message, /s3cret/, 'the password is not in the message')
  t.ok(Date.now() - started < 3000, 'fails within the connect timeout')
})
