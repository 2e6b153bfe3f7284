import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { Redis } from 'ioredis'

/**
 * PostgreSQL and Redis of one run: a database created for it (dropped at the end) on the
 * server of DATABASE_URL, and a Redis key prefix whose keys are deleted at the end.
 */
export function createServices (env: { databaseUrl?: string, redisUrl?: string }) {
  const id = randomBytes(5).toString('hex')
  const dbName = `rw_bench_${id}`
  const redisPrefix = `rwbench:${id}:`
  let created = false

  async function admin<T> (work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: env.databaseUrl })
    await client.connect()
    try {
      return await work(client)
    } finally {
      await client.end()
    }
  }

  return {
    redisPrefix,

    /** Creates the run's database; returns the URLs the scenarios may use. */
    async prepare (): Promise<{ databaseUrl?: string, redisUrl?: string }> {
      let databaseUrl: string | undefined
      if (env.databaseUrl) {
        await admin((c) => c.query(`create database ${dbName}`))
        created = true
        const url = new URL(env.databaseUrl)
        url.pathname = `/${dbName}`
        databaseUrl = url.toString()
      }
      return { databaseUrl, redisUrl: env.redisUrl }
    },

    async cleanup (): Promise<void> {
      if (created) {
        created = false
        await admin((c) => c.query(`drop database if exists ${dbName} with (force)`))
      }
      if (env.redisUrl) {
        const redis = new Redis(env.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 })
        try {
          await redis.connect()
          let cursor = '0'
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 500)
            if (keys.length > 0) await redis.del(...keys)
            cursor = next
          } while (cursor !== '0')
        } finally {
          redis.disconnect()
        }
      }
    }
  }
}
