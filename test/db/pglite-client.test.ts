import t from 'tap'
import { startPgliteWorker } from '../../src/db/pglite-client.js'

/** The embedded database in its worker thread: what drizzle-orm and roomwire rely on of a PGlite. */
t.test('queries, errors and transactions through the worker', async (t) => {
  const db = await startPgliteWorker({ dataDir: 'memory' })
  t.teardown(() => db.close())
  await db.exec('create table t (id int primary key, at timestamptz default now())')

  const inserted = await db.query('insert into t (id) values ($1), ($2) returning id', [1, 2], { rowMode: 'object' })
  t.same(inserted.rows, [{ id: 1 }, { id: 2 }], 'parameters in, rows out (object mode)')
  t.same((await db.query('select id from t order by id', [], { rowMode: 'array' })).rows, [[1], [2]], 'array mode')
  const at = (await db.query('select at from t where id = 1', [], { rowMode: 'object', parsers: { 1184: (v: string) => v } })).rows[0] as { at: unknown }
  t.type(at.at, 'string', 'a type given a parser keeps its text, as drizzle-orm asks for timestamps')
  t.ok((await db.query('select at from t where id = 1')).rows.length === 1)

  const duplicate = await db.query('insert into t (id) values (1)').catch((err: unknown) => err)
  t.type(duplicate, Error)
  t.match(duplicate, { code: '23505', constraint: 't_pkey' }, 'a PostgreSQL error keeps its code and fields')

  await t.rejects(db.transaction(async (tx) => {
    await tx.query('insert into t (id) values (3)')
    throw new Error('changed my mind')
  }), { message: 'changed my mind' }, 'an error in a transaction is the caller’s')
  t.same((await db.query('select count(*)::int as n from t', [], { rowMode: 'object' })).rows, [{ n: 2 }], 'and it rolled back')

  await db.transaction(async (tx) => { await tx.query('insert into t (id) values (4)'); await tx.rollback() })
  t.same((await db.query('select count(*)::int as n from t where id = 4', [], { rowMode: 'object' })).rows, [{ n: 0 }], 'rollback() rolls back')

  // A statement outside an open transaction waits for it, as on one PGlite in one thread.
  const order: string[] = []
  let outside: Promise<unknown> | undefined
  const value = await db.transaction(async (tx) => {
    await tx.query('insert into t (id) values (5)')
    outside = db.query('select count(*)::int as n from t', [], { rowMode: 'object' }).then((r) => { order.push('outside'); return r.rows })
    await new Promise((resolve) => setTimeout(resolve, 50))
    order.push('commit')
    return 'done'
  })
  t.equal(value, 'done', 'a transaction resolves to what its function returned')
  t.same(await outside, [{ n: 3 }], 'the statement outside saw the committed row')
  t.same(order, ['commit', 'outside'])
})

t.test('a closed or failed worker answers with a clear error, not a hang', async (t) => {
  const db = await startPgliteWorker({ dataDir: 'memory' })
  await db.close()
  await t.rejects(db.query('select 1'), /the embedded database is closed/)
  await db.close()
  t.pass('close twice is a no-op')
  await t.rejects(startPgliteWorker({ dataDir: '/proc/no-such-directory/pglite' }), 'a worker that cannot open its directory fails to start')
})
