import t from 'tap'
import { buildTestApp, modes } from '../helper.js'
import { createRoom, createUser, SeedClient } from './fixtures.js'

/** GET /api/public/rooms/:roomId/participants: who is present now, for a late joiner. */

for (const mode of modes()) {
  t.test(mode, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, listen: true })
    const room = await createRoom(app, { capacity: 10 })
    const list = async (query = '') => (await app.inject(`/api/public/rooms/${room.id}/participants${query}`))

    t.same((await list()).json(), { participants: [], currentOccupancy: 0, nextCursor: null }, 'an empty room')

    const users = [await createUser(app, 'Ann'), await createUser(app, 'Ben', '127.0.0.2'), await createUser(app, 'Cy', '127.0.0.3')]
    const clients = [
      new SeedClient(t, url, room.id), new SeedClient(t, url, room.id, { ip: '127.0.0.2' }), new SeedClient(t, url, room.id, { ip: '127.0.0.3' })
    ]
    for (const [i, client] of clients.entries()) await client.join(users[i])
    const byId = [...users].sort((a, b) => (a.userId < b.userId ? -1 : 1))

    const all = (await list()).json()
    t.same(all, { participants: byId, currentOccupancy: 3, nextCursor: null }, 'everyone present, with their names, by user id')

    const first = (await list('?limit=2')).json()
    t.same(first.participants, byId.slice(0, 2))
    t.equal(first.nextCursor, byId[1].userId)
    const rest = (await list(`?limit=2&cursor=${first.nextCursor}`)).json()
    t.same(rest, { participants: byId.slice(2), currentOccupancy: 3, nextCursor: null }, 'the second page')

    const left = clients[0].next('user-left')
    await clients[1].leave(users[1].userId)
    await t.resolveMatch(left, { userId: users[1].userId })
    t.same((await list()).json().participants.map((p: { userName: string }) => p.userName).sort(), ['Ann', 'Cy'], 'who left is gone')

    t.equal((await app.inject('/api/public/rooms/00000000-0000-4000-8000-000000000000/participants')).statusCode, 404)
    t.equal((await list('?limit=101')).statusCode, 400)
  })
}
