import { createHash } from 'node:crypto'
import { isCluster, scanCluster, type RedisClient } from './cluster.js'
import { escapeGlob } from './glob.js'
import { instanceKeys } from './keys.js'
import type { Script, ScriptReply, Store } from './types.js'

export interface RedisStoreOptions {
  /** One Redis, or a Redis Cluster: then `prefix` must carry the state hash tag (clusterStatePrefix). */
  redis: RedisClient
  prefix?: string
  /** Quit the client on close(); false for a client handed in by someone who closes it. */
  ownsClient?: boolean
}

const SCAN_COUNT = 1000
/** How long close() waits for QUIT before it drops the connection. */
const QUIT_WITHIN_MS = 2_000

function ttlArg (ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`invalid ttl ${ttlMs} ms`)
  return Math.ceil(ttlMs)
}

function scoreArg (score: number): string {
  if (score === Infinity) return '+inf'
  if (score === -Infinity) return '-inf'
  return String(score)
}

function parseScore (reply: string): number {
  if (reply === 'inf' || reply === '+inf') return Infinity
  if (reply === '-inf') return -Infinity
  return Number(reply)
}

/** INFO of the node a script runs on: with the epoch key as KEYS[1], the master that holds the state (one slot on a cluster). */
const SERVER_INFO: Script = {
  name: 'server-info',
  lua: "return redis.call('INFO', 'server')",
  local: () => { throw new Error('server-info runs on Redis only') }
}

function isNoScript (err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT')
}

/** The store many instances share; every key carries `prefix` so deployments can share a Redis. */
export function createRedisStore ({ redis, prefix = '', ownsClient = false }: RedisStoreOptions): Store {
  const k = (key: string): string => prefix + key
  const shas = new Map<string, string>()

  function shaOf (script: Script): string {
    let sha = shas.get(script.lua)
    if (sha === undefined) {
      sha = createHash('sha1').update(script.lua).digest('hex')
      shas.set(script.lua, sha)
    }
    return sha
  }

  async function run (script: Script, keys: string[], args: Array<string | number>): Promise<ScriptReply> {
    // On a cluster a script is sent to the master of its KEYS' slot; one that declares none (it
    // builds every key from patterns) would go to any node, so it names a key of the state's slot.
    if (keys.length === 0 && isCluster(redis)) keys = [instanceKeys.epoch]
    const params = [...keys.map(k), prefix, ...args.map(String)]
    try {
      return await redis.evalsha(shaOf(script), keys.length, ...params) as ScriptReply
    } catch (err) {
      // After a Redis restart or SCRIPT FLUSH the cache is empty; EVAL also reloads it.
      if (!isNoScript(err)) throw err
      return await redis.eval(script.lua, keys.length, ...params) as ScriptReply
    }
  }

  async function scan (pattern: string): Promise<string[]> {
    const found = new Set<string>()
    const match = escapeGlob(prefix) + pattern
    if (isCluster(redis)) return (await scanCluster(redis, match, SCAN_COUNT)).map(key => key.slice(prefix.length))
    let cursor = '0'
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT)
      for (const key of batch) found.add(key.slice(prefix.length))
      cursor = next
    } while (cursor !== '0')
    return [...found]
  }

  return {
    kind: 'redis',
    prefix,
    redis,

    async get (key) { return await redis.get(k(key)) },
    async set (key, value, { ttlMs, onlyIfAbsent = false } = {}) {
      const args: Array<string | number> = [k(key), value]
      if (ttlMs !== undefined) args.push('PX', ttlArg(ttlMs))
      if (onlyIfAbsent) args.push('NX')
      return await redis.call('SET', ...args) === 'OK'
    },
    async del (...keys) {
      return keys.length === 0 ? 0 : await redis.del(...keys.map(k))
    },
    async exists (key) { return await redis.exists(k(key)) === 1 },
    async pexpire (key, ttlMs) { return await redis.pexpire(k(key), Math.ceil(ttlMs)) === 1 },
    async pttl (key) { return await redis.pttl(k(key)) },
    async incrBy (key, by) { return await redis.incrby(k(key), by) },

    async sAdd (key, ...members) {
      return members.length === 0 ? 0 : await redis.sadd(k(key), ...members)
    },
    async sRem (key, ...members) {
      return members.length === 0 ? 0 : await redis.srem(k(key), ...members)
    },
    async sMembers (key) { return await redis.smembers(k(key)) },
    async sCard (key) { return await redis.scard(k(key)) },
    async sIsMember (key, member) { return await redis.sismember(k(key), member) === 1 },

    async hSet (key, fields) {
      if (Object.keys(fields).length > 0) await redis.hset(k(key), fields)
    },
    async hGet (key, field) { return await redis.hget(k(key), field) },
    async hGetAll (key) { return await redis.hgetall(k(key)) },
    async hDel (key, ...fields) {
      return fields.length === 0 ? 0 : await redis.hdel(k(key), ...fields)
    },
    async hLen (key) { return await redis.hlen(k(key)) },

    async zAdd (key, score, member) { await redis.zadd(k(key), scoreArg(score), member) },
    async zRem (key, ...members) {
      return members.length === 0 ? 0 : await redis.zrem(k(key), ...members)
    },
    async zScore (key, member) {
      const score = await redis.zscore(k(key), member)
      return score === null ? null : parseScore(score)
    },
    async zRangeByScore (key, min, max) {
      return await redis.zrangebyscore(k(key), scoreArg(min), scoreArg(max))
    },
    async zCard (key) { return await redis.zcard(k(key)) },

    scan,
    run,

    async serverId () {
      // A script, not INFO: on a cluster it runs on the master of the state's slot, whose
      // run_id changes on a failover (the replica promoted may have lost writes: restore).
      const info = await run(SERVER_INFO, [instanceKeys.epoch], []) as string
      const runId = /^run_id:(\w+)/m.exec(info)?.[1]
      if (runId === undefined) throw new Error('INFO server has no run_id')
      return runId
    },
    async ping () {
      // On a cluster every master: the state's slot is on one, the adapter's streams on any.
      if (isCluster(redis)) await Promise.all(redis.nodes('master').map(async node => await node.ping()))
      else await redis.ping()
    },
    async close () {
      if (!ownsClient) return
      // QUIT lets the replies in flight arrive; it fails when the connection is already down,
      // and is bounded: one that never finishes must not hold the process.
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        redis.quit().catch(() => {}),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, QUIT_WITHIN_MS) })
      ])
      clearTimeout(timer)
      // Then whatever is left goes too: a Cluster's quit() quits the node connections it holds at
      // that moment only. (A test file of the CI's cluster pass once stayed alive 180 s after its
      // last test had closed its stores; the cause was not found.)
      redis.disconnect()
    }
  }
}
