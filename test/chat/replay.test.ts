import t from 'tap'
import { buildTestApp, modes } from '../helper.js'
import { ChatClient, createChannel, createGroup, crossReady, newUser } from './fixtures.js'

// Issue 18, CONTRACT §12: replay beyond the recovery window.

const env = { CHAT_MESSAGES_PER_MINUTE: '10000', HISTORY_REPLAY_MAX: '50' }
const LIVE = 20

/** Two instances sharing Redis and SQL in services mode; one in embedded mode. */
async function twoApps (t: Parameters<typeof buildTestApp>[0], mode: 'embedded' | 'services', extra: Record<string, string> = {}) {
  const first = await buildTestApp(t, { mode, env: { ...env, ...extra } })
  const second = mode === 'services' ? await buildTestApp(t, { mode, env: { ...env, ...extra }, shared: { prefix: first.prefix } }) : first
  return { first, second }
}

/** The events of the log as `m<seq>` for messages and `R` for history:replayed. */
function sequence (client: ChatClient, messageEvent: string): string[] {
  return client.received.filter(r => r.event === messageEvent || r.event === 'history:replayed')
    .map(r => r.event === 'history:replayed' ? 'R' : `m${r.data.seq}`)
}

for (const mode of modes()) {
  t.test(`${mode}: a member away past the window rejoins a group with sinceSeq: exactly what it missed, in order, before any live one`, async (t) => {
    const { first, second } = await twoApps(t, mode)
    const [owner, member] = [await newUser(first.app, 'Owner'), await newUser(first.app, 'Member')]
    const groupId = await createGroup(first.app, owner, [member])
    const sender = await ChatClient.open(t, first.url, owner.token)
    await sender.ack('join_group', groupId)
    const away = await ChatClient.open(t, second.url, member.token)
    await away.ack('join_group', groupId)
    for (let i = 1; i <= 3; i++) await sender.ack('send_message', { groupId, content: `seen ${i}` })
    await away.until('message_received', 3)
    const lastSeen = away.all('message_received').at(-1).seq
    away.close()
    for (let i = 1; i <= 5; i++) await sender.ack('send_message', { groupId, content: `missed ${i}` })

    // A new session (no recovery) on the other instance, while the sender keeps sending.
    const back = await ChatClient.open(t, second.url, member.token)
    if (mode === 'services') await crossReady(first.app, back)
    const live = Array.from({ length: LIVE }, (_, i) => sender.ack('send_message', { groupId, content: `live ${i}` }))
    const joined = await back.ack('join_group', { groupId, sinceSeq: lastSeen })
    t.equal(joined.groupId, groupId, 'the join answers as before')
    const acks = await Promise.all(live)
    const last = Math.max(...acks.map(a => a.seq))
    const replayed = await back.next('history:replayed')
    await back.until('message_received', last - lastSeen)
    t.equal(replayed.groupId, groupId)
    t.equal(replayed.fromSeq, lastSeen + 1, 'from the first missed message')
    t.equal(replayed.complete, true)
    t.ok(replayed.toSeq >= lastSeen + 5, 'every message stored before the join is replayed')
    const expected = Array.from({ length: last - lastSeen }, (_, i) => `m${lastSeen + 1 + i}`)
    expected.splice(replayed.toSeq - lastSeen, 0, 'R')
    t.same(sequence(back, 'message_received'), expected, 'each missed seq once, in order; history:replayed between replayed and live')
    t.same(back.all('message_received').slice(0, 5).map(m => m.content), ['missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5'])
  })

  t.test(`${mode}: more missed than HISTORY_REPLAY_MAX: the newest are replayed, complete: false`, async (t) => {
    const { first, second } = await twoApps(t, mode, { HISTORY_REPLAY_MAX: '3' })
    const [owner, member] = [await newUser(first.app, 'Owner'), await newUser(first.app, 'Member')]
    const groupId = await createGroup(first.app, owner, [member])
    const sender = await ChatClient.open(t, first.url, owner.token)
    await sender.ack('join_group', groupId)
    for (let i = 1; i <= 7; i++) await sender.ack('send_message', { groupId, content: `m ${i}` })
    const back = await ChatClient.open(t, second.url, member.token)
    await back.ack('join_group', { groupId, sinceSeq: 1 })
    const replayed = await back.next('history:replayed')
    t.same(replayed, { groupId, fromSeq: 5, toSeq: 7, complete: false }, 'seqs 5..7 of the 6 missed; fetch before 5 over REST')
    t.same(sequence(back, 'message_received'), ['m5', 'm6', 'm7', 'R'])
    const rest = await first.app.inject({ method: 'GET', url: `/api/groups/${groupId}/messages?before=5&limit=100`, headers: { authorization: `Bearer ${member.token}` } })
    t.same(rest.json().messages.map((m: any) => m.seq), [4, 3, 2, 1], 'the rest over REST (before fromSeq), newest first')

    // Nothing missed: an empty replay that says so.
    const again = await ChatClient.open(t, first.url, member.token)
    await again.ack('join_group', { groupId, sinceSeq: 7 })
    t.same(await again.next('history:replayed'), { groupId, fromSeq: 8, toSeq: 7, complete: true })
    t.equal(again.count('message_received'), 0)
  })

  t.test(`${mode}: channel room:join with sinceSeq replays as \`message\`; {roomId} alone replays nothing`, async (t) => {
    const { first, second } = await twoApps(t, mode)
    const [writer, reader] = [await newUser(first.app, 'Writer'), await newUser(first.app, 'Reader')]
    const roomId = await createChannel(first.app)
    const w = await ChatClient.open(t, first.url, writer.token)
    await w.ack('room:join', { roomId })
    for (let i = 1; i <= 4; i++) await w.ack('message', { roomId, content: `c ${i}` })

    const plain = await ChatClient.open(t, second.url, reader.token)
    t.same(await plain.ack('room:join', { roomId }), { ok: true, roomId, first: true })
    const back = await ChatClient.open(t, second.url, reader.token)
    if (mode === 'services') await crossReady(first.app, back)
    const live = Array.from({ length: LIVE }, (_, i) => w.ack('message', { roomId, content: `live ${i}` }))
    await back.ack('room:join', { roomId, sinceSeq: 2 })
    const last = Math.max(...(await Promise.all(live)).map(a => a.seq))
    const replayed = await back.next('history:replayed')
    await back.until('message', last - 2)
    t.equal(replayed.roomId, roomId)
    t.equal(replayed.fromSeq, 3)
    const expected = Array.from({ length: last - 2 }, (_, i) => `m${3 + i}`)
    expected.splice(replayed.toSeq - 2, 0, 'R')
    t.same(sequence(back, 'message'), expected, 'missed ones once, in order, then live ones')
    await plain.until('message', LIVE)
    t.equal(plain.count('history:replayed'), 0, 'a join without sinceSeq replays nothing')
    t.same(plain.all('message').map(m => m.seq), Array.from({ length: LIVE }, (_, i) => last - LIVE + 1 + i), 'and gets only live ones')

    const bad = await back.ack('room:join', { roomId, sinceSeq: -1 })
    t.equal(bad.error.code, 'INVALID_REQUEST', 'a negative sinceSeq is refused')
  })
}
