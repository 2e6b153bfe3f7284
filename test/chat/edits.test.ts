import t from 'tap'
import { eq } from 'drizzle-orm'
import { ADMIN_API_KEY, buildTestApp, modes, servicesSkipReason } from '../helper.js'
import { messages } from '../../src/db/schema/index.js'
import { bearer, chat, ChatClient, createGroup, crossReady, flush, newUser, testDb } from './fixtures.js'

// Issue 21, part 1: edit and delete of stored messages, groups (seed 001) and channels (seed 004).

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

const env = { CHAT_MESSAGES_PER_MINUTE: '10000', CHAT_MAX_LENGTH: '20' }

async function twoApps (t: Parameters<typeof buildTestApp>[0], mode: 'embedded' | 'services') {
  const first = await buildTestApp(t, { mode, env })
  const second = mode === 'services' ? await buildTestApp(t, { mode, env, shared: { prefix: first.prefix } }) : first
  return { first, second }
}

for (const mode of modes()) {
  t.test(`${mode}: a group: the sender edits, an owner deletes; every member on both instances sees it, history too`, async (t) => {
    const { first, second } = await twoApps(t, mode)
    const db = await testDb(t, mode)
    const [owner, sender, other] = [await newUser(first.app, 'Owner'), await newUser(first.app, 'Sender'), await newUser(first.app, 'Other')]
    const groupId = await createGroup(first.app, owner, [sender, other])
    const o = await ChatClient.open(t, first.url, owner.token)
    const s = await ChatClient.open(t, second.url, sender.token)
    const x = await ChatClient.open(t, second.url, other.token)
    if (mode === 'services') { await crossReady(first.app, s); await crossReady(second.app, o) }
    for (const c of [o, s, x]) await c.ack('join_group', groupId)
    const sent = await s.ack('send_message', { groupId, content: 'helo' })
    const keep = await s.ack('send_message', { groupId, content: 'keep me' })

    const edited = await s.ack('edit_message', { messageId: sent.id, content: '  hello  ' })
    t.match(edited, { ok: true, groupId, messageId: sent.id, seq: sent.seq, version: 2, content: 'hello' })
    t.ok(Date.parse(edited.editedAt) >= Date.parse(sent.createdAt), 'editedAt is a time, not before the send')
    for (const c of [o, s, x]) {
      t.same(await c.next('message_updated'), { groupId, messageId: sent.id, seq: sent.seq, version: 2, content: 'hello', editedAt: edited.editedAt },
        'every member gets message_updated, whichever instance it is on')
    }

    // Refused, and nothing changes: another member, bad content, an unknown id.
    const marks = [o, s, x].map(c => c.mark())
    t.match(await x.ack('edit_message', { messageId: sent.id, content: 'mine now' }), { ok: false, error: { code: 'FORBIDDEN' } })
    t.match(await o.ack('edit_message', { messageId: sent.id, content: 'owner edit' }), { ok: false, error: { code: 'FORBIDDEN' } }, 'an owner deletes, never edits')
    t.match(await s.ack('edit_message', { messageId: sent.id, content: '   ' }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.match(await s.ack('edit_message', { messageId: sent.id, content: 'x'.repeat(21) }), { ok: false, error: { code: 'MESSAGE_TOO_LONG' } })
    t.match(await s.ack('edit_message', { messageId: sent.id }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.match(await s.ack('edit_message', { messageId: sent.id, content: 'a\u0000b' }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.match(await s.ack('edit_message', { messageId: '00000000-0000-4000-8000-000000000000', content: 'ghost' }), { ok: false, error: { code: 'MESSAGE_NOT_FOUND' } })
    t.match(await s.ack('edit_message', { messageId: 'not-a-uuid', content: 'ghost' }), { ok: false, error: { code: 'MESSAGE_NOT_FOUND' } })
    t.match(await x.ack('delete_message', { messageId: sent.id }), { ok: false, error: { code: 'FORBIDDEN' } }, 'a plain member may not delete another one')
    t.match(await s.ack('react', { messageId: sent.id, emoji: 'nope' }), { ok: false, error: { code: 'INVALID_REQUEST' } })
    t.same(await x.next('error', undefined, marks[2]), { code: 'FORBIDDEN', message: 'Only the sender may edit a message' }, 'the error event as well')
    for (const [i, c] of [o, s, x].entries()) {
      await flush(c)
      t.equal(c.received.slice(marks[i]).filter(r => r.event === 'message_updated' || r.event === 'message_deleted').length, 0, 'no one heard of a refused change')
    }
    const [row] = await db.select().from(messages).where(eq(messages.id, sent.id))
    t.match(row, { content: 'hello', version: 2, deletedAt: null })

    // A socket that left the room may not change its messages.
    await s.ack('leave_group', groupId)
    t.match(await s.ack('edit_message', { messageId: sent.id, content: 'outside' }), { ok: false, error: { code: 'NOT_IN_ROOM' } })
    await s.ack('join_group', groupId)

    const history = async () => (await first.app.inject({ method: 'GET', url: `/api/groups/${groupId}/messages`, headers: bearer(other.token) })).json().messages
    const before = await history()
    t.match(before.find((m: any) => m.id === sent.id), { content: 'hello', version: 2, editedAt: edited.editedAt, deletedAt: null })
    t.notOk('version' in before.find((m: any) => m.id === keep.id), 'a message never changed carries no change fields')

    // The owner deletes the sender's message: a tombstone everywhere.
    const deleted = await o.ack('delete_message', { messageId: sent.id })
    t.match(deleted, { ok: true, groupId, messageId: sent.id, seq: sent.seq, version: 3, deletedBy: owner.user.id })
    for (const c of [o, s, x]) t.same(await c.next('message_deleted'), { groupId, messageId: sent.id, seq: sent.seq, version: 3, deletedAt: deleted.deletedAt, deletedBy: owner.user.id })
    const [tomb] = await db.select().from(messages).where(eq(messages.id, sent.id))
    t.match(tomb, { content: '', version: 3, metadata: null }, 'the content is gone from SQL')
    t.ok(tomb.deletedAt instanceof Date)
    t.match((await history()).find((m: any) => m.id === sent.id), { content: '', version: 3, deletedAt: deleted.deletedAt })
    t.match(await s.ack('edit_message', { messageId: sent.id, content: 'revive' }), { ok: false, error: { code: 'MESSAGE_NOT_FOUND' } }, 'a deleted message stays deleted')
    t.match(await s.ack('delete_message', { messageId: sent.id }), { ok: false, error: { code: 'MESSAGE_NOT_FOUND' } })
    // The sender deletes their own; a group admin (chat_members.role) any.
    t.match(await s.ack('delete_message', { messageId: keep.id }), { ok: true, version: 2, deletedBy: sender.user.id })
    const byOwner = await o.ack('send_message', { groupId, content: 'from the owner' })
    t.match(await x.ack('delete_message', { messageId: byOwner.id }), { ok: false, error: { code: 'FORBIDDEN' } })
    const admin = await newUser(first.app, 'Admin')
    const added = await first.app.inject({ method: 'POST', url: `/api/groups/${groupId}/members`, headers: bearer(owner.token), payload: { userId: admin.user.id, role: 'ADMIN' } })
    t.equal(added.statusCode, 201)
    const a = await ChatClient.open(t, first.url, admin.token)
    await a.ack('join_group', groupId)
    t.match(await a.ack('delete_message', { messageId: byOwner.id }), { ok: true, groupId, deletedBy: admin.user.id }, "an admin deletes the owner's message")
    t.match(await x.next('message_deleted', (d) => d.messageId === byOwner.id), { deletedBy: admin.user.id })

    // A join with sinceSeq replays the latest state.
    const late = await ChatClient.open(t, first.url, other.token)
    await late.ack('join_group', { groupId, sinceSeq: 0 })
    await late.next('history:replayed')
    t.match(late.all('message_received').slice(0, 2), [{ id: sent.id, content: '', version: 3, deletedAt: deleted.deletedAt }, { id: keep.id, content: '', version: 2 }])
  })

  t.test(`${mode}: racing edits and a delete from two instances end in one state for everyone`, async (t) => {
    const { first, second } = await twoApps(t, mode)
    const db = await testDb(t, mode)
    const [owner, sender] = [await newUser(first.app, 'Owner'), await newUser(first.app, 'Sender')]
    const groupId = await createGroup(first.app, owner, [sender])
    const s1 = await ChatClient.open(t, first.url, sender.token)
    const s2 = await ChatClient.open(t, second.url, sender.token)
    const o = await ChatClient.open(t, second.url, owner.token)
    if (mode === 'services') { await crossReady(first.app, o); await crossReady(second.app, s1) }
    for (const c of [s1, s2, o]) await c.ack('join_group', groupId)
    const { id } = await s1.ack('send_message', { groupId, content: 'v1' })
    const acks = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? s1 : s2).ack('edit_message', { messageId: id, content: `v${i + 2}` })),
      o.ack('delete_message', { messageId: id })
    ])
    const landed = acks.filter(a => a.ok === true)
    t.ok(acks.every(a => a.ok === true || a.error.code === 'MESSAGE_NOT_FOUND'), 'an edit after the delete is refused as not found')
    t.same(landed.map(a => a.version).sort((a, b) => a - b), Array.from({ length: landed.length }, (_, i) => i + 2), 'each change took the next version')
    const [row] = await db.select().from(messages).where(eq(messages.id, id))
    t.equal(row.content, '', 'the delete is final')
    for (const c of [s1, s2, o]) {
      await c.until('message_deleted', 1)
      await flush(c)
      const versions = c.received.filter(r => r.event === 'message_updated' || r.event === 'message_deleted').map(r => r.data.version)
      t.same(versions, Array.from({ length: landed.length }, (_, i) => i + 2), 'every change, in the order the database applied it')
      t.equal(c.received.filter(r => r.event === 'message_updated' || r.event === 'message_deleted').at(-1)?.event, 'message_deleted')
    }
  })

  t.test(`${mode}: a channel: its creator moderates; events name the roomId; code rooms have nothing stored`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env })
    const [creator, writer, reader] = [await newUser(app, 'Creator', `cre${mode}`), await newUser(app, 'Writer', `wri${mode}`), await newUser(app, 'Reader', `rea${mode}`)]
    const roomId = (await chat(app).createRoom({ kind: 'channel', name: 'news', createdBy: creator.user })).id
    const [c, w, r] = await Promise.all([creator, writer, reader].map(u => ChatClient.open(t, url, u.token)))
    for (const x of [c, w, r]) await x.ack('room:join', { roomId })
    const msg = await w.ack('message', { roomId, content: 'teh news' })
    t.match(await w.ack('edit_message', { messageId: msg.id, content: 'the news' }), { ok: true, roomId, version: 2 })
    t.match(await r.next('message_updated'), { roomId, messageId: msg.id, seq: msg.seq, version: 2, content: 'the news' })
    t.match(await r.ack('delete_message', { messageId: msg.id }), { ok: false, error: { code: 'FORBIDDEN' } })
    t.match(await c.ack('delete_message', { messageId: msg.id }), { ok: true, roomId, version: 3, deletedBy: creator.user.id })
    t.match(await r.next('message_deleted'), { roomId, messageId: msg.id, version: 3 })
    const history = await app.inject({ method: 'GET', url: `/api/channels/${roomId}/messages`, headers: bearer(reader.token) })
    t.match(history.json().messages[0], { id: msg.id, content: '', version: 3 })
    t.match(await chat(app).history({ kind: 'channel', id: roomId }, { limit: 10 }), [{ id: msg.id, content: '', version: 3 }], 'the chat core reads the same')
    const admin = await app.inject({ method: 'GET', url: `/api/rooms/${roomId}/messages`, headers: { 'x-api-key': ADMIN_API_KEY } })
    t.match(admin.json().messages.at(-1), { id: msg.id, content: '', version: 3, metadata: null }, "the service API's getRoomMessages too")

    await w.ack('join_room', 'ephemeral')
    const code = await w.ack('send_message', { room: 'ephemeral', content: 'gone soon' })
    t.equal(code.isEdited, false)
    t.match(await w.ack('edit_message', { messageId: code._id, content: 'x' }), { ok: false, error: { code: 'MESSAGE_NOT_FOUND' } }, 'a code-room message is never stored')
  })
}

t.test('embedded: an edit counts as a send toward CHAT_MESSAGES_PER_MINUTE; a refused one changes nothing', async (t) => {
  const { app, url } = await buildTestApp(t, { env: { CHAT_MESSAGES_PER_MINUTE: '2' } })
  const writer = await newUser(app, 'Writer')
  const groupId = await createGroup(app, writer)
  const w = await ChatClient.open(t, url, writer.token)
  await w.ack('join_group', groupId)
  const sent = await w.ack('send_message', { groupId, content: 'one' })
  t.match(await w.ack('edit_message', { messageId: sent.id, content: 'two' }), { ok: true, version: 2 })
  t.match(await w.ack('edit_message', { messageId: sent.id, content: 'three' }), { ok: false, error: { code: 'RATE_LIMITED' } })
  t.match((await chat(app).history({ kind: 'group', id: groupId }, { limit: 1 }))[0], { content: 'two', version: 2 })
})
