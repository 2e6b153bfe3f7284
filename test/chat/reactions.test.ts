import t from 'tap'
import { randomUUID } from 'node:crypto'
import { buildTestApp, modes, servicesSkipReason } from '../helper.js'
import { hs256, claims } from '../tokens.js'
import { checkEmoji } from '../../src/chat/reactions.js'
import { bearer, chat, ChatClient, createGroup, crossReady, flush, newUser } from './fixtures.js'

// Issue 21, part 1: reactions to stored messages.

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

const USERS = 50
/** 50 users' reactions at once, on a shared 2-core machine: the default 5 s ack timeout is no bound here. */
const slowAck = (c: ChatClient, event: string, payload: unknown) => c.socket.timeout(60_000).emitWithAck(event, payload)
const env = { CHAT_REACTIONS_MAX: '3', CHAT_REACTIONS_COALESCE_MS: '200' }

t.test('checkEmoji: one emoji, nothing else', async (t) => {
  for (const ok of ['👍', '🎉', '❤️', '👍🏽', '👨‍👩‍👧', '🇫🇷', '1️⃣', '#️⃣', '🏳️‍🌈']) t.equal(checkEmoji(ok), ok, ok)
  for (const bad of ['', 'a', '1', '👍👍', ' 👍', '👍 ', ':)', 'ok', '\u200d', '<b>', '👍a']) {
    t.throws(() => checkEmoji(bad), { code: 'INVALID_REQUEST' }, JSON.stringify(bad))
  }
})

for (const mode of modes()) {
  t.test(`${mode}: ${USERS} users react at once${mode === 'services' ? ' on two instances' : ''}: exact counts for everyone and in history`, async (t) => {
    const first = await buildTestApp(t, { mode, env })
    const second = mode === 'services' ? await buildTestApp(t, { mode, env, shared: { prefix: first.prefix } }) : first
    const roomId = (await chat(first.app).createRoom({ kind: 'channel', name: 'crowd' })).id
    const users = Array.from({ length: USERS }, (_, i) => ({ sub: randomUUID(), name: `Fan ${i}`, username: `fan${i}` }))
    const clients = await Promise.all(users.map((u, i) => ChatClient.open(t, (i % 2 === 0 ? first : second).url, hs256(claims(u)))))
    if (mode === 'services') { await crossReady(first.app, clients[1]); await crossReady(second.app, clients[0]) }
    for (const c of clients) await c.ack('room:join', { roomId })
    const msg = await clients[0].ack('message', { roomId, content: 'react to me' })
    const observers = [clients[0], clients[1]]

    // Everyone 👍 (twice: idempotent), every third one 🎉 as well, all at once.
    const replies = await Promise.all(clients.flatMap((c, i) => [
      slowAck(c, 'react', { messageId: msg.id, emoji: '👍' }),
      slowAck(c, 'react', { messageId: msg.id, emoji: '👍' }),
      ...(i % 3 === 0 ? [slowAck(c, 'react', { messageId: msg.id, emoji: '🎉' })] : [])
    ]))
    t.ok(replies.every(r => r.ok === true), 'every reaction accepted')
    t.equal(replies.filter(r => r.emoji === '👍' && r.changed).length, USERS, 'each user added 👍 once; the repeat changed nothing')
    const party = clients.filter((_, i) => i % 3 === 0).length
    const after = { '👍': USERS, '🎉': party }
    for (const o of observers) t.same((await o.next('reactions_updated', (d) => d.reactions['👍'] === USERS && d.reactions['🎉'] === party)).reactions, after)

    // Half take their 👍 back, at once, while the others repeat theirs.
    await Promise.all(clients.map((c, i) => slowAck(c, i % 2 === 0 ? 'unreact' : 'react', { messageId: msg.id, emoji: '👍' })))
    const final = { '👍': USERS / 2, '🎉': party }
    for (const o of observers) {
      const got = await o.next('reactions_updated', (d) => d.reactions['👍'] === USERS / 2)
      t.same(got, { roomId, messageId: msg.id, seq: msg.seq, reactions: final }, 'the counts reach both instances, named by roomId and seq')
    }
    let lastOk = 0
    for (const c of clients) {
      await c.next('reactions_updated', (d) => d.reactions['👍'] === USERS / 2, 0)
      await flush(c)
      const last = c.all('reactions_updated').at(-1).reactions
      if (last['👍'] === final['👍'] && last['🎉'] === final['🎉'] && Object.keys(last).length === 2) lastOk++
    }
    t.equal(lastOk, USERS, 'every member ends on the latest counts, none on a stale one')
    const seen = clients[2].count('reactions_updated')
    t.ok(seen < USERS * 2, `coalesced: ${seen} broadcasts for ${USERS * 2 + party} reactions`)
    const history = await first.app.inject({ method: 'GET', url: `/api/channels/${roomId}/messages`, headers: bearer(hs256(claims(users[3]))) })
    t.same(history.json().messages[0].reactions, final, 'history has the counts')
  })

  t.test(`${mode}: the distinct-emoji cap, wrong rooms and bad input change nothing; a delete drops the reactions`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env })
    const [owner, member, stranger] = [await newUser(app, 'Owner'), await newUser(app, 'Member'), await newUser(app, 'Stranger')]
    const groupId = await createGroup(app, owner, [member])
    const o = await ChatClient.open(t, url, owner.token)
    const m = await ChatClient.open(t, url, member.token)
    const s = await ChatClient.open(t, url, stranger.token)
    await o.ack('join_group', groupId)
    await m.ack('join_group', groupId)
    const msg = await m.ack('send_message', { groupId, content: 'pick one' })
    for (const emoji of ['👍', '🎉', '❤️']) t.match(await o.ack('react', { messageId: msg.id, emoji }), { ok: true, changed: true })
    t.same((await m.next('reactions_updated')).reactions, { '👍': 1 }, 'the first change of a quiet message goes out at once')
    const mark = m.mark()
    t.match(await m.ack('react', { messageId: msg.id, emoji: '🔥' }), { ok: false, error: { code: 'TOO_MANY_REACTIONS' } })
    t.match(await m.ack('react', { messageId: msg.id, emoji: '🎉' }), { ok: true, changed: true }, 'an emoji already there is still open to all')
    t.match(await m.ack('unreact', { messageId: msg.id, emoji: '🔥' }), { ok: true, changed: false })
    t.match(await s.ack('react', { messageId: msg.id, emoji: '👍' }), { ok: false, error: { code: 'NOT_IN_ROOM' } }, 'not in the room')
    t.match(await s.ack('join_group', groupId), { ok: false, error: { code: 'NOT_A_MEMBER' } })
    t.match(await m.ack('react', { messageId: msg.id, emoji: 'thumbs' }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.match(await m.ack('react', { messageId: msg.id, emoji: '👍'.repeat(20) }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.match(await m.ack('react', { messageId: msg.id }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.match(await m.ack('react', { messageId: randomUUID(), emoji: '👍' }), { ok: false, error: { code: 'MESSAGE_NOT_FOUND' } })
    const expected = { '👍': 1, '🎉': 2, '❤️': 1 }
    t.same((await m.next('reactions_updated', (d) => d.reactions['🎉'] === 2, mark)).reactions, expected)
    const history = async () => (await app.inject({ method: 'GET', url: `/api/groups/${groupId}/messages`, headers: bearer(owner.token) })).json().messages[0]
    t.same((await history()).reactions, expected, 'only the accepted reactions are stored')

    // A deleted message loses its reactions and takes no new ones.
    t.match(await m.ack('delete_message', { messageId: msg.id }), { ok: true })
    t.notOk('reactions' in await history(), 'the tombstone has no reactions')
    t.match(await o.ack('react', { messageId: msg.id, emoji: '👍' }), { ok: false, error: { code: 'MESSAGE_NOT_FOUND' } })
    await flush(m)
  })
}
