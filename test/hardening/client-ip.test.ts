import t from 'tap'
import { sql } from 'drizzle-orm'
import { Redis } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client'
import { buildTestApp, connect, freshPostgresUrl, modes, servicesSkipReason, sharedPglite, type Mode } from '../helper.js'
import { createDatabase } from '../../src/db/index.js'
import { createRoom, type PublicUser } from '../public-rooms/fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

type Test = Parameters<typeof connect>[0]
const RAW = ['127.0.0.1', '127.0.0.2', '10.9.9.9', '10.0.0.1', '10.0.0.2', '10.0.0.3']

function publicSocket (t: Test, url: string, roomId: string, opts: { ip?: string, xff?: string } = {}): Socket {
  const options = {
    ...(opts.ip ? { localAddress: opts.ip } : {}),
    ...(opts.xff ? { extraHeaders: { 'x-forwarded-for': opts.xff } } : {})
  } as Partial<ManagerOptions & SocketOptions>
  return connect(t, `${url}/public-room/${roomId}`, options)
}

/** 'joined', or the code of the refusal / join error. */
async function joinOrRefusal (socket: Socket, user: PublicUser): Promise<string> {
  return await new Promise((resolve, reject) => {
    socket.once('error', (e: { code: string }) => { resolve(e.code) })
    socket.timeout(5_000).emitWithAck('join-room', user)
      .then((ack: any) => { resolve(ack.ok === true ? 'joined' : ack.error.code) }, reject)
  })
}

async function createUser (app: FastifyInstance, userName: string, xff: string): Promise<PublicUser> {
  const res = await app.inject({
    method: 'POST', url: '/api/public/users', payload: { userName }, remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': xff }
  })
  if (res.statusCode !== 201) throw new Error(`create user: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** Every row of every table, and every key and value under the Redis prefix, as one string. */
async function everythingStored (mode: Mode, prefix: string): Promise<string> {
  // The app's own database: the file's PGlite, or its fresh PostgreSQL database.
  const database = mode === 'services' ? await createDatabase({ databaseUrl: await freshPostgresUrl(), dataDir: 'memory' }) : await sharedPglite()
  const { db } = database
  const tables = await db.execute(sql`select table_name from information_schema.tables where table_schema = 'public'`)
  const dump: unknown[] = []
  for (const { table_name: name } of tables.rows as Array<{ table_name: string }>) {
    dump.push(name, (await db.execute(sql.raw(`select * from "${name}"`))).rows)
  }
  if (mode === 'services') {
    await database.close()
    const redis = new Redis(process.env.REDIS_URL!)
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      for (const key of keys) {
        const type = await redis.type(key)
        dump.push(key)
        if (type === 'string') dump.push(await redis.get(key))
        else if (type === 'hash') dump.push(await redis.hgetall(key))
        else if (type === 'set') dump.push(await redis.smembers(key))
        else if (type === 'zset') dump.push(await redis.zrange(key, '0', '-1', 'WITHSCORES'))
        else if (type === 'list') dump.push(await redis.lrange(key, 0, -1))
        else if (type === 'stream') dump.push(await redis.xrange(key, '-', '+'))
      }
      cursor = next
    } while (cursor !== '0')
    redis.disconnect()
  }
  return JSON.stringify(dump)
}

for (const mode of modes()) {
  t.test(`${mode}: without TRUST_PROXY a spoofed X-Forwarded-For is ignored`, async (t) => {
    const { app, url, prefix } = await buildTestApp(t, { mode, env: { PUBLIC_MAX_CONNECTIONS_PER_IP: '2' } })
    const room = await createRoom(app)
    // The user is bound to the peer address 127.0.0.1, not to the forwarded one.
    const ada = await createUser(app, 'Ada', '127.0.0.2')
    const fromElsewhere = publicSocket(t, url, room.id, { ip: '127.0.0.2' })
    t.equal(await joinOrRefusal(fromElsewhere, ada), 'INVALID_USER', 'the forwarded address is not the user\'s address')
    const a = publicSocket(t, url, room.id, { xff: '10.0.0.1' })
    t.equal(await joinOrRefusal(a, ada), 'joined', 'the peer address is')
    // The slot limit counts the peer: 127.0.0.2 holds one, 127.0.0.1 one, so one more from here.
    const b = publicSocket(t, url, room.id, { xff: '10.0.0.2' })
    t.equal(await joinOrRefusal(b, ada), 'joined')
    const c = publicSocket(t, url, room.id, { xff: '10.0.0.3' })
    t.equal(await joinOrRefusal(c, ada), 'TOO_MANY_CONNECTIONS', 'different X-Forwarded-For values do not make new slots')
    const stored = await everythingStored(mode, prefix)
    for (const ip of RAW) t.notOk(stored.includes(ip), `${ip} is stored nowhere`, { where: stored.slice(Math.max(0, stored.indexOf(ip) - 200), stored.indexOf(ip) + 50) })
  })

  t.test(`${mode}: with TRUST_PROXY=127.0.0.1 the forwarded address counts`, async (t) => {
    const { app, url, prefix } = await buildTestApp(t, { mode, env: { PUBLIC_MAX_CONNECTIONS_PER_IP: '2', TRUST_PROXY: '127.0.0.1' } })
    const room = await createRoom(app)
    const ada = await createUser(app, 'Ada', '127.0.0.2')
    const direct = publicSocket(t, url, room.id)
    t.equal(await joinOrRefusal(direct, ada), 'INVALID_USER', 'the proxy\'s own address is not the user\'s')
    // Only the nearest untrusted hop counts: the spoofed 10.9.9.9 before it is ignored.
    const viaProxy = publicSocket(t, url, room.id, { xff: '10.9.9.9, 127.0.0.2' })
    t.equal(await joinOrRefusal(viaProxy, ada), 'joined', 'the forwarded address is the user\'s')
    const again = publicSocket(t, url, room.id, { xff: '10.0.0.1, 127.0.0.2' })
    t.equal(await joinOrRefusal(again, ada), 'joined')
    const third = publicSocket(t, url, room.id, { xff: '127.0.0.2' })
    t.equal(await joinOrRefusal(third, ada), 'TOO_MANY_CONNECTIONS', 'the forwarded address holds the slots')
    const other = publicSocket(t, url, room.id, { xff: '10.0.0.2' })
    const bob = await createUser(app, 'Bob', '10.0.0.2')
    t.equal(await joinOrRefusal(other, bob), 'joined', 'another forwarded address has slots of its own')
    const stored = await everythingStored(mode, prefix)
    for (const ip of RAW) t.notOk(stored.includes(ip), `${ip} is stored nowhere`, { where: stored.slice(Math.max(0, stored.indexOf(ip) - 200), stored.indexOf(ip) + 50) })
  })
}
