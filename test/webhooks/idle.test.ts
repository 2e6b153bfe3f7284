import t from 'tap'
import { sql } from 'drizzle-orm'
import { ADMIN_API_KEY, modes } from '../helper.js'
import { databaseOf, newRoom, startReceiver, webhookApp } from './fixtures.js'

const pause = async (ms: number) => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * With no endpoint the sender's rounds stop at reading the endpoints: no lease taken or renewed,
 * no outbox or deliveries statement (an idle server ran three SQL statements a second for
 * nothing, most of its idle CPU on PGlite). An endpoint added over REST is seen the next round.
 */
for (const mode of modes()) {
  t.test(`${mode}: no endpoint, no lease; an endpoint added later is served from the next round`, async (t) => {
    const group = `idle-${mode}`
    const { app } = await webhookApp(t, mode, [], { group })
    const { db } = await databaseOf(t, mode, group)
    const leases = async () => (await db.execute<{ holder: string }>(sql`select holder from webhook_leases where name = 'sender'`)).rows
    // 25 rounds of 40 ms (fixtures' fastWebhooks), past the first full round after the start.
    await pause(1_000)
    await db.execute(sql`delete from webhook_leases where name = 'sender'`)
    await pause(1_000)
    t.same(await leases(), [], 'no round took the lease while no endpoint existed')

    const receiver = await startReceiver(t)
    const created = await app.inject({ method: 'POST', url: '/api/webhooks', headers: { 'x-api-key': ADMIN_API_KEY }, payload: { url: receiver.url, events: ['room.occupied'] } })
    t.equal(created.statusCode, 201)
    const room = newRoom()
    await app.webhooks.enqueue([{ type: 'room.occupied', room }])
    await receiver.until(() => receiver.events(new Set([room.id])).length === 1, 'the event')
    t.equal((await leases()).length, 1, 'the sender took the lease once an endpoint existed')
  })
}
