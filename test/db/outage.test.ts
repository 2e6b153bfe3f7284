import t from 'tap'
import { sql } from 'drizzle-orm'
import { createDatabase } from '../../src/db/index.js'
import { createSequencer } from '../../src/chat/sequencer.js'
import { freshPostgresUrl, servicesSkipReason } from '../helper.js'
import { startRelay } from '../cluster/fixtures/processes.js'

/**
 * A PostgreSQL connection that drops while a client is checked out of the pool (a drizzle
 * transaction, the chat sequencer's pinned connection) rejects the work in flight; it must not
 * end the process (an 'error' event nobody listens to would) and the pool recovers.
 */
const skip = servicesSkipReason()
if (skip) {
  t.skip(skip, () => {})
} else {
  const connect = async (test: { teardown (fn: () => unknown): void }) => {
    const url = new URL(await freshPostgresUrl())
    const relay = await startRelay(test, { host: url.hostname, port: Number(url.port || 5432) })
    url.port = String(relay.port)
    const database = await createDatabase({ databaseUrl: url.toString(), dataDir: 'unused' })
    test.teardown(() => database.close())
    return { database, relay }
  }
  // The work holds its checked-out connection for this long after the cut, so that the drop
  // arrives while nothing is waiting on a query.
  const pause = () => new Promise((resolve) => setTimeout(resolve, 100))

  t.test('a connection dropped inside a transaction rejects it; the process and the pool survive', async (t) => {
    const { database, relay } = await connect(t)
    const failed = database.db.transaction(async (tx) => {
      await tx.execute(sql`select 1`)
      await relay.stop()
      await pause()
      await tx.execute(sql`select 1`)
    })
    await t.rejects(failed, 'the transaction rejects')
    await relay.start()
    await t.resolves(database.ping(), 'the pool connects again')
    await t.resolves(database.db.transaction(async (tx) => { await tx.execute(sql`select 1`) }), 'transactions work again')
  })

  t.test('a connection dropped while the chat sequencer holds it rejects that send only', async (t) => {
    const { database, relay } = await connect(t)
    const sequencer = createSequencer(database)
    const published: number[] = []
    const failed = sequencer.run('room-a', async (tx) => {
      await relay.stop()
      await pause()
      await tx.execute(sql`select 1`)
      return 1
    }, async (n) => { published.push(n) })
    await t.rejects(failed, 'the send rejects')
    await relay.start()
    const ok = await sequencer.run('room-a', async (tx) => {
      await tx.execute(sql`select 1`)
      return 2
    }, async (n) => { published.push(n) })
    t.equal(ok, 2, 'the next send of the room goes through')
    t.same(published, [2], 'nothing was published for the failed send')
  })
}
