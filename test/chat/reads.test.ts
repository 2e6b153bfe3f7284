import t from 'tap'
import { buildTestApp, modes, servicesSkipReason } from '../helper.js'
import { bearer, ChatClient, createChannel, createGroup, crossReady, flush, newUser } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

for (const mode of modes()) {
  t.test(`${mode}: read receipts from two tabs${mode === 'services' ? ' on two instances' : ''}: monotonic, announced, unread exact`, async (t) => {
    const first = await buildTestApp(t, { mode, env: { PRESENCE_COALESCE_MS: '50' } })
    const second = mode === 'services' ? await buildTestApp(t, { mode, env: { PRESENCE_COALESCE_MS: '50' }, shared: { prefix: first.prefix } }) : first
    const [alice, bob] = [await newUser(first.app, 'Alice'), await newUser(first.app, 'Bob')]
    const groupId = await createGroup(first.app, alice, [bob])
    const other = await createGroup(first.app, alice, [bob], 'Other')
    const bobTab1 = await ChatClient.open(t, first.url, bob.token)
    const bobTab2 = await ChatClient.open(t, second.url, bob.token)
    const a = await ChatClient.open(t, second.url, alice.token)
    if (mode === 'services') {
      await crossReady(first.app, a)
      await crossReady(second.app, bobTab1)
    }
    for (const c of [bobTab1, bobTab2, a]) await c.ack('join_group', groupId)
    for (let i = 1; i <= 5; i++) await a.ack('send_message', { groupId, content: `m${i}` })
    await a.ack('join_group', other)
    await a.ack('send_message', { groupId: other, content: 'elsewhere' })

    const unread = async (id: string) => (await first.app.inject({ method: 'GET', url: `/api/groups/${id}/unread`, headers: bearer(bob.token) })).json()
    t.same(await unread(groupId), { groupId, lastReadSeq: 0, lastSeq: 5, unread: 5 }, 'nothing read yet')

    // Two tabs, two instances, at once: the higher seq wins whatever the order.
    const [r1, r2] = await Promise.all([bobTab1.ack('mark_read', { groupId, seq: 4 }), bobTab2.ack('mark_read', { groupId, seq: 2 })])
    t.equal(r1.ok, true)
    t.equal(Math.max(r1.lastReadSeq, r2.lastReadSeq), 4)
    t.same(await bobTab2.ack('mark_read', { groupId, seq: 3 }), { ok: true, groupId, lastReadSeq: 4 }, 'a lower seq changes nothing')
    const seen = await a.next('read_updated', (d) => d.userId === bob.user.id && d.seq === 4)
    t.same(seen, { groupId, userId: bob.user.id, seq: 4 }, 'the room hears the member read up to 4')
    await bobTab1.next('read_updated', (d) => d.seq === 4)
    t.same(await unread(groupId), { groupId, lastReadSeq: 4, lastSeq: 5, unread: 1 }, 'exact after marks from two tabs')
    const fromSecond = (await second.app.inject({ method: 'GET', url: `/api/groups/${groupId}/unread`, headers: bearer(bob.token) })).json()
    t.same(fromSecond, { groupId, lastReadSeq: 4, lastSeq: 5, unread: 1 }, 'the same on the other instance')
    t.same(await unread(other), { groupId: other, lastReadSeq: 0, lastSeq: 1, unread: 1 })

    // Bad input changes nothing and answers the contract's codes.
    t.match(await bobTab1.ack('mark_read', { groupId, seq: 99 }), { ok: false, error: { code: 'INVALID_REQUEST' } }, 'past the last message')
    t.match(await bobTab1.ack('mark_read', { groupId, seq: 0 }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.match(await bobTab1.ack('mark_read', { groupId, seq: '5' }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.match(await bobTab1.ack('mark_read', { groupId: '00000000-0000-4000-8000-000000000000', seq: 1 }), { ok: false, error: { code: 'ROOM_NOT_FOUND' } })
    const stranger = await newUser(first.app, 'Stranger')
    const s = await ChatClient.open(t, first.url, stranger.token)
    t.match(await s.ack('mark_read', { groupId, seq: 1 }), { ok: false, error: { code: 'NOT_A_MEMBER' } })
    t.equal((await unread(groupId)).lastReadSeq, 4, 'still 4')
    t.equal((await first.app.inject({ method: 'GET', url: `/api/groups/${groupId}/unread`, headers: bearer(stranger.token) })).statusCode, 403)

    // Own messages are never unread.
    await bobTab1.ack('send_message', { groupId, content: 'mine' })
    t.same(await unread(groupId), { groupId, lastReadSeq: 4, lastSeq: 6, unread: 1 })

    // Every group of the caller, paginated.
    const page1 = (await first.app.inject({ method: 'GET', url: '/api/groups/unread?limit=1', headers: bearer(bob.token) })).json()
    t.same(page1.rooms, [{ groupId, lastReadSeq: 4, lastSeq: 6, unread: 1 }])
    t.type(page1.nextCursor, 'string')
    const page2 = (await first.app.inject({ method: 'GET', url: `/api/groups/unread?limit=1&cursor=${page1.nextCursor}`, headers: bearer(bob.token) })).json()
    t.same(page2, { rooms: [{ groupId: other, lastReadSeq: 0, lastSeq: 1, unread: 1 }], nextCursor: null })
    t.equal((await first.app.inject({ method: 'GET', url: '/api/groups/unread?limit=101', headers: bearer(bob.token) })).statusCode, 400)
    t.equal((await first.app.inject({ method: 'GET', url: '/api/groups/unread' })).statusCode, 401)
  })
}

t.test('embedded: channels take mark_read with roomId; read_updated coalesced per room', async (t) => {
  // A window long enough that the four marks below fall in it on a loaded machine.
  const { app, url } = await buildTestApp(t, { env: { PRESENCE_COALESCE_MS: '3000' } })
  const [alice, bob, carol] = [await newUser(app, 'Alice', 'alice'), await newUser(app, 'Bob', 'bob'), await newUser(app, 'Carol', 'carol')]
  const roomId = await createChannel(app)
  const [a, b, c] = await Promise.all([alice, bob, carol].map(u => ChatClient.open(t, url, u.token)))
  for (const x of [a, b, c]) await x.ack('room:join', { roomId })
  for (let i = 1; i <= 4; i++) await a.ack('message', { roomId, content: `m${i}` })
  t.same(await b.ack('mark_read', { roomId, seq: 1 }), { ok: true, roomId, lastReadSeq: 1 })
  t.same(await a.next('read_updated'), { roomId, userId: bob.user.id, seq: 1 }, 'a quiet room hears at once')
  // Inside the window: bob 2, 3, 4 and carol 2 collapse into one of each, the latest.
  for (const seq of [2, 3, 4]) await b.ack('mark_read', { roomId, seq })
  await c.ack('mark_read', { roomId, seq: 2 })
  await a.next('read_updated', (d) => d.userId === carol.user.id)
  await flush(a)
  t.same(a.all('read_updated').slice(1).sort((x, y) => x.userId.localeCompare(y.userId)),
    [{ roomId, userId: bob.user.id, seq: 4 }, { roomId, userId: carol.user.id, seq: 2 }].sort((x, y) => x.userId.localeCompare(y.userId)),
    'one read_updated per member per window, the latest seq')
})
