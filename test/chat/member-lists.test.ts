import t from 'tap'
import { buildTestApp, modes, servicesSkipReason } from '../helper.js'
import { ChatClient, coreEvent, createGroup, flush, newUser, type TestUser } from './fixtures.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

const CROWD = 6
// Long enough that a burst of joins falls into few windows however loaded the machine is.
const COALESCE_MS = 1_000

const ids = (list: Array<{ userId: string }>) => list.map((u) => u.userId).sort()
const sameIds = (expected: TestUser[]) => {
  const want = JSON.stringify(expected.map((u) => u.user.id).sort())
  return (list: Array<{ userId: string }>) => JSON.stringify(ids(list)) === want
}

for (const mode of modes()) {
  t.test(`${mode}: code-room users_online is coalesced and always ends at who is there`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { PRESENCE_COALESCE_MS: String(COALESCE_MS) } })
    const host = await newUser(app, 'Host')
    const crowd: TestUser[] = []
    for (let i = 0; i < CROWD; i++) crowd.push(await newUser(app, `Guest ${i}`))
    const h = await ChatClient.open(t, url, host.token)
    await h.ack('join_room', 'storm')
    t.same(ids(await h.next('users_online')), [host.user.id], 'the first change of a quiet room goes out at once')

    const clients = await Promise.all(crowd.map((u) => ChatClient.open(t, url, u.token)))
    await Promise.all(clients.map((c) => c.ack('join_room', 'storm')))
    await h.next('users_online', sameIds([host, ...crowd]))
    t.ok(h.count('users_online') < 1 + CROWD, `fewer lists than joins (${h.count('users_online')} for ${CROWD + 1})`)
    for (const c of clients) await c.next('users_online', sameIds([host, ...crowd]))
    t.pass('every member ends at the same list')

    // Half leave, some by leave_room and some by disconnecting.
    const leaving = clients.slice(0, CROWD / 2)
    const gone = leaving.map((c, i) => {
      const id = c.id
      if (i % 2 === 0) return c.ack('leave_room', 'storm')
      const done = coreEvent(app, 'disconnect', (e) => e.socketId === id)
      c.close()
      return done
    })
    await Promise.all(gone)
    const stay = [host, ...crowd.slice(CROWD / 2)]
    await h.next('users_online', sameIds(stay))
    await flush(h)
    t.same(ids(h.all('users_online').at(-1)), ids(stay.map((u) => ({ userId: u.user.id }))), 'the last list says who is there')
  })

  t.test(`${mode}: group room_members_update is coalesced; per-user events and the joiner's reply are not`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { PRESENCE_COALESCE_MS: String(COALESCE_MS) } })
    const owner = await newUser(app, 'Owner')
    const members: TestUser[] = []
    for (let i = 0; i < CROWD; i++) members.push(await newUser(app, `Member ${i}`))
    const groupId = await createGroup(app, owner, members)
    const o = await ChatClient.open(t, url, owner.token)
    await o.ack('join_group', groupId)
    await o.next('room_members_update', (d) => sameIds([owner])(d.onlineMembers))

    const clients = await Promise.all(members.map((u) => ChatClient.open(t, url, u.token)))
    const replies = await Promise.all(clients.map((c) => c.ack('join_group', groupId)))
    for (const [i, reply] of replies.entries()) {
      t.ok(reply.onlineMembers.some((m: { userId: string }) => m.userId === members[i].user.id), 'each joiner is in its own reply')
    }
    await o.next('room_members_update', (d) => sameIds([owner, ...members])(d.onlineMembers))
    await o.until('user_joined_group', CROWD)
    t.same(o.all('user_joined_group').map((d) => d.userId).sort(), members.map((u) => u.user.id).sort(), 'one user_joined_group per member')
    t.ok(o.count('room_members_update') < 1 + CROWD, `fewer lists than joins (${o.count('room_members_update')} for ${CROWD + 1})`)

    const leaving = clients.slice(0, CROWD / 2)
    await Promise.all(leaving.map((c) => c.ack('leave_group', groupId)))
    const stay = [owner, ...members.slice(CROWD / 2)]
    await o.next('room_members_update', (d) => sameIds(stay)(d.onlineMembers))
    await o.until('user_left_group', CROWD / 2)
    await flush(o)
    t.same(ids(o.all('room_members_update').at(-1).onlineMembers), stay.map((u) => u.user.id).sort(), 'the last list says who is there')
  })
}
