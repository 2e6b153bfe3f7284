import t from 'tap'
import type { Socket } from 'socket.io-client'
import { buildTestApp, connect, connected, modes, once, registerUser, servicesSkipReason } from '../helper.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

type Test = Parameters<typeof connect>[0]

async function chatClient (t: Test, url: string, token: string, room: string): Promise<Socket> {
  const socket = connect(t, url, { auth: { token } })
  await connected(socket)
  const joined = once(socket, 'joined_room')
  socket.emit('join_room', room)
  await joined
  return socket
}

/** `socket` sends `content` to `room` and receives it back as `new_message`. */
async function roundTrip (socket: Socket, room: string, content: string): Promise<void> {
  const received = new Promise<void>((resolve) => {
    const listener = (m: { content: string }) => {
      if (m.content === content) { socket.off('new_message', listener); resolve() }
    }
    socket.on('new_message', listener)
  })
  const ack = await socket.timeout(5_000).emitWithAck('send_message', { content, room })
  if (ack?.ok === false) throw new Error(`send_message refused: ${ack.error.code}`)
  await Promise.race([received, once(socket, 'never', 5_000)])
}

for (const mode of modes()) {
  t.test(`${mode}: a frame over WS_MAX_PAYLOAD drops only its sender`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { WS_MAX_PAYLOAD: '2048' } })
    const [alice, bob] = [await registerUser(app), await registerUser(app)]
    const big = await chatClient(t, url, alice.token, 'BIGROOM')
    const other = await chatClient(t, url, bob.token, 'BIGROOM')
    const dropped = once<string>(big, 'disconnect')
    big.emit('send_message', { content: 'x'.repeat(4096), room: 'BIGROOM' })
    t.equal(await dropped, 'transport close', 'the sender of the oversized frame is dropped')
    t.ok(other.connected, 'the other client stays connected')
    await roundTrip(other, 'BIGROOM', 'still here')
    t.pass('the other client keeps sending and receiving')
    const fresh = await chatClient(t, url, alice.token, 'BIGROOM')
    const seen = once<{ content: string }>(other, 'new_message')
    await fresh.timeout(5_000).emitWithAck('send_message', { content: 'back again', room: 'BIGROOM' })
    t.equal((await seen).content, 'back again', 'the dropped user can reconnect and is heard')
  })

  t.test(`${mode}: a flooding client is rate-limited, the others are not`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { CHAT_MESSAGES_PER_MINUTE: '20', WS_EVENT_BURST: '1000' } })
    // (the burst is raised: this is the chat message limit, the inbound budget has its own test)
    const [alice, bob] = [await registerUser(app), await registerUser(app)]
    const flooder = await chatClient(t, url, alice.token, 'FLOOD')
    const other = await chatClient(t, url, bob.token, 'FLOOD')
    const errors: string[] = []
    flooder.on('error', (e: { code: string }) => { errors.push(e.code) })
    let otherReceived = 0
    other.on('new_message', () => { otherReceived++ })
    // As fast as it can: every emit at once, then the acks.
    const acks = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      flooder.timeout(10_000).emitWithAck('send_message', { content: `flood ${i}`, room: 'FLOOD' })))
    const accepted = acks.filter((a) => a?.ok !== false).length
    const limited = acks.filter((a) => a?.ok === false && a.error.code === 'RATE_LIMITED').length
    t.equal(accepted, 20, 'exactly the per-minute allowance gets through')
    t.equal(limited, 180, 'the rest are RATE_LIMITED')
    t.ok(errors.every((c) => c === 'RATE_LIMITED'), 'the error event says RATE_LIMITED')
    for (let i = 0; i < 5; i++) await roundTrip(other, 'FLOOD', `calm ${i}`)
    t.pass('the other client keeps getting its own messages')
    t.ok(flooder.connected, 'the flooder is limited, not dropped')
    t.ok(otherReceived >= 25, 'the other client received the accepted flood and its own messages')
  })
}
