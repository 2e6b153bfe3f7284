import t from 'tap'
import { Type } from 'typebox'
import { AppError } from '../../src/errors.js'
import { defineNamespace, on } from '../../src/socket/namespace.js'
import { eventTablesOf } from '../../src/socket/event-table.js'
import { connect, connected, modes, once, servicesSkipReason } from '../helper.js'
import { bareSocketApp, delay, recordingLog } from './fixtures.js'

const Step = Type.Object({ n: Type.Number(), waitMs: Type.Optional(Type.Number()) })
const Nothing = Type.Optional(Type.Object({}))

for (const mode of modes()) {
  t.test(mode, { skip: mode === 'services' && servicesSkipReason() }, async (t) => {
    t.test('every event of one socket runs in arrival order, one at a time', async (t) => {
      const { app, url } = await bareSocketApp(t, mode)
      const seen: string[] = []
      let running = 0
      let overlapped = false
      defineNamespace({
        nsp: app.io.of('/ordered'),
        name: '/ordered',
        errorEvent: 'error',
        log: recordingLog(),
        session: () => ({}),
        events: {
          step: on(Step, async ({ n, waitMs = 0 }) => {
            if (++running > 1) overlapped = true
            await delay(waitMs)
            seen.push(`step ${n}`)
            running--
            return { ok: true, n }
          }),
          clock: on(Nothing, () => { seen.push('clock'); return { ok: true } }, { ordered: false })
        }
      })
      const socket = connect(t, `${url}/ordered`)
      await connected(socket)
      const replies = await Promise.all([
        socket.emitWithAck('step', { n: 1, waitMs: 60 }),
        socket.emitWithAck('step', { n: 2, waitMs: 0 }),
        socket.emitWithAck('clock', {}),
        socket.emitWithAck('step', { n: 3, waitMs: 10 })
      ])
      t.same(replies.map(r => r.n), [1, 2, undefined, 3])
      t.same(seen, ['clock', 'step 1', 'step 2', 'step 3'], 'ordered in arrival; the unordered event did not wait')
      t.notOk(overlapped, 'never two steps of one socket at once')
    })

    t.test('the connect step runs first and the disconnect step last', async (t) => {
      const { app, url } = await bareSocketApp(t, mode)
      const seen: string[] = []
      let disconnected!: () => void
      const done = new Promise<void>((resolve) => { disconnected = resolve })
      defineNamespace({
        nsp: app.io.of('/steps'),
        name: '/steps',
        errorEvent: 'error',
        log: recordingLog(),
        session: (socket) => ({ id: socket.id }),
        connect: async () => { await delay(50); seen.push('connect') },
        disconnect: async (ctx, reason) => { seen.push(`disconnect ${reason}`); disconnected() },
        events: {
          step: on(Step, async ({ n, waitMs = 0 }, ctx) => {
            await delay(waitMs)
            seen.push(`step ${n} ${ctx.session.id === ctx.socket.id}`)
          })
        }
      })
      const socket = connect(t, `${url}/steps`)
      await connected(socket)
      socket.emit('step', { n: 1, waitMs: 40 })
      socket.emit('step', { n: 2 })
      await delay(5)
      socket.disconnect()
      await done
      t.same(seen, ['connect', 'step 1 true', 'step 2 true', 'disconnect client namespace disconnect'])
    })

    t.test('a failed connect step fails every later event with its error', async (t) => {
      const { app, url } = await bareSocketApp(t, mode)
      let handled = 0
      defineNamespace({
        nsp: app.io.of('/refused'),
        name: '/refused',
        errorEvent: 'error',
        log: recordingLog(),
        session: () => ({}),
        connect: async () => { throw new AppError('CONNECTION_ERROR', 'No admission') },
        events: { step: on(Step, () => { handled++ }) }
      })
      const socket = connect(t, `${url}/refused`)
      await connected(socket)
      const error = once(socket, 'error')
      const reply = await socket.emitWithAck('step', { n: 1 })
      t.same(reply, { ok: false, error: { code: 'CONNECTION_ERROR', message: 'No admission' } })
      t.same(await error, { code: 'CONNECTION_ERROR', message: 'No admission' })
      t.equal(handled, 0, 'the handler never ran')
    })

    t.test('errors reach the socket: validation, AppErrors and unexpected ones (fallback code, logged)', async (t) => {
      const { app, url } = await bareSocketApp(t, mode)
      const log = recordingLog()
      defineNamespace({
        nsp: app.io.of('/errors'),
        name: '/errors',
        errorEvent: 'room:error',
        fallbackCode: 'STEP_ERROR',
        log,
        session: () => ({}),
        events: {
          refuse: on(Step, () => { throw new AppError('NOT_IN_ROOM', 'Join a room first') }),
          crash: on(Step, () => { throw new Error('boom') }),
          limited: on(Step, () => 'never', { limit: async () => false })
        }
      })
      const socket = connect(t, `${url}/errors`)
      await connected(socket)
      const errors: unknown[] = []
      socket.on('room:error', (e) => { errors.push(e) })
      t.same(await socket.emitWithAck('refuse', { n: 'x' }), { ok: false, error: { code: 'INVALID_REQUEST', message: 'Invalid refuse: n must be number' } })
      t.same(await socket.emitWithAck('refuse', { n: 1 }), { ok: false, error: { code: 'NOT_IN_ROOM', message: 'Join a room first' } })
      t.same((await socket.emitWithAck('crash', { n: 1 })).error.code, 'STEP_ERROR')
      t.same((await socket.emitWithAck('limited', { n: 1 })).error.code, 'RATE_LIMITED')
      await delay(20)
      t.same(errors.map((e: any) => e.code), ['INVALID_REQUEST', 'NOT_IN_ROOM', 'STEP_ERROR', 'RATE_LIMITED'], 'each error event too, in order with the acks')
      t.match(log.lines, [{ level: 'error', obj: { event: 'crash' } }], 'only the unexpected one is logged')
    })

    t.test('an unknown event answers its ack with UNKNOWN_EVENT, and nothing else', async (t) => {
      const { app, url } = await bareSocketApp(t, mode)
      defineNamespace({
        nsp: app.io.of('/known'),
        name: '/known',
        errorEvent: 'error',
        log: recordingLog(),
        session: () => ({}),
        events: { step: on(Step, ({ n }) => ({ ok: true, n })) }
      })
      const socket = connect(t, `${url}/known`)
      await connected(socket)
      let errors = 0
      socket.on('error', () => { errors++ })
      socket.emit('silent nonsense', { n: 1 })
      t.same(await socket.emitWithAck('nonsense', { n: 1 }), { ok: false, error: { code: 'UNKNOWN_EVENT', message: 'Unknown event: nonsense' } })
      t.same(await socket.emitWithAck('step', 'not an object'), { ok: false, error: { code: 'INVALID_REQUEST', message: 'Invalid step: payload must be object' } })
      t.same(await socket.emitWithAck('step', { n: 2 }), { ok: true, n: 2 })
      t.equal(errors, 1, 'only the invalid one an error event; an unknown one none')
    })

    t.test('close() waits for work in flight, also work queued while it waits', async (t) => {
      const { app, url } = await bareSocketApp(t, mode)
      const finished: string[] = []
      const ns = defineNamespace({
        nsp: app.io.of('/slow'),
        name: '/slow',
        errorEvent: 'error',
        log: recordingLog(),
        session: () => ({}),
        disconnect: async () => { await delay(30); finished.push('disconnect') },
        events: {
          step: on(Step, async ({ n }, ctx) => {
            await delay(60)
            finished.push(`step ${n}`)
            ns.run(ctx.socket, async () => { await delay(20); finished.push('extra') }).catch(() => {})
          })
        }
      })
      const socket = connect(t, `${url}/slow`)
      await connected(socket)
      socket.emit('step', { n: 1 })
      await delay(20)
      socket.disconnect()
      await delay(5)
      await ns.close()
      t.same(finished, ['step 1', 'disconnect', 'extra'], 'the extra work was queued after the disconnect, and waited for too')
      t.same(eventTablesOf(app.io).map((table) => table.namespace), ['/slow'], 'the table is registered for the docs')
    })

    t.test('a handler emits through its outbox: to the socket, a room minus one, everyone', async (t) => {
      const { app, url } = await bareSocketApp(t, mode)
      type Events = { said: (payload: { text: string }) => void, bell: () => void }
      defineNamespace<{ name: string }, Events>({
        nsp: app.io.of('/talk'),
        name: '/talk',
        errorEvent: 'bell',
        log: recordingLog(),
        session: (socket) => ({ name: String(socket.handshake.auth.name) }),
        connect: async ({ socket, outbox }) => { await outbox.join(socket, 'lobby') },
        events: {
          say: on(Type.Object({ text: Type.String() }), async ({ text }, { socket, session, outbox }) => {
            await outbox.deliver([
              { to: { room: 'lobby', except: [socket.id] }, event: 'said', payload: { text: `${session.name}: ${text}` } },
              { to: { socket: socket.id }, event: 'said', payload: { text: 'sent' } },
              { to: { all: true }, event: 'bell' }
            ])
          })
        }
      })
      const alice = connect(t, `${url}/talk`, { auth: { name: 'alice' } })
      const bob = connect(t, `${url}/talk`, { auth: { name: 'bob' } })
      await Promise.all([connected(alice), connected(bob)])
      await delay(20)
      const bobHears = once(bob, 'said')
      const bobBell = new Promise<unknown[]>((resolve) => bob.once('bell', (...args: unknown[]) => resolve(args)))
      const aliceHears = once(alice, 'said')
      await alice.emitWithAck('say', { text: 'hi' })
      t.same(await bobHears, { text: 'alice: hi' })
      t.same(await aliceHears, { text: 'sent' }, 'alice only hears her own reply')
      const args = await bobBell
      // With recovery on, the offset is appended as the last argument: the event itself carries none.
      t.ok(args.length === 0 || (args.length === 1 && typeof args[0] === 'string'), 'bell carries no payload')
    })
  })
}
