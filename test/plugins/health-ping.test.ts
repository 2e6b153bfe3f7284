import t from 'tap'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import configPlugin from '../../plugins/config.js'
import socketIoPlugin from '../../plugins/socket-io.js'
import healthPingPlugin from '../../plugins/health-ping.js'
import { connect, connected, once } from '../helper.js'

/** The plugin alone on a bare Fastify, with its two dependencies. */
async function bareApp (test: Pick<typeof t, 'teardown'>) {
  const app = Fastify()
  await app.register(configPlugin, { env: {}, logLevel: 'silent' })
  await app.register(socketIoPlugin)
  await app.register(healthPingPlugin)
  test.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

t.test('an idle socket that ignores 3 pings gets CONNECTION_TIMEOUT and is disconnected', async (t) => {
  const { app, url } = await bareApp(t)
  app.healthPing(app.io.of('/hp'), { idleMs: 30, maxMissed: 3 })
  const socket = connect(t, `${url}/hp`)
  await connected(socket)
  let pings = 0
  socket.on('ping', () => { pings++ })
  const [error] = await Promise.all([once(socket, 'error', 3000), once(socket, 'disconnect', 3000)])
  t.same(error, { code: 'CONNECTION_TIMEOUT', message: 'No pong after 3 pings' })
  t.equal(pings, 3, 'three unanswered pings before the timeout')
})

t.test('answering pings (or any event) keeps the socket connected', async (t) => {
  const { app, url } = await bareApp(t)
  app.healthPing(app.io.of('/hp'), { idleMs: 20, maxMissed: 2 })
  const socket = connect(t, `${url}/hp`)
  await connected(socket)
  let pings = 0
  socket.on('ping', () => {
    pings++
    // Alternate a pong and another event: both count as activity.
    socket.emit(pings % 2 === 0 ? 'pong' : 'anything-else')
  })
  let timedOut = false
  socket.on('error', () => { timedOut = true })
  // Wait for 6 pings: each answered, so the missed count never reaches 2.
  await new Promise<void>((resolve) => { const check = () => (pings >= 6 ? resolve() : setTimeout(check, 10)); check() })
  t.equal(timedOut, false)
  t.ok(socket.connected, 'still connected after 6 answered pings')
})

t.test('stop() ends the sweep', async (t) => {
  const { app, url } = await bareApp(t)
  const checks = app.healthPing(app.io.of('/hp'), { idleMs: 20, maxMissed: 1 })
  checks.stop()
  const socket = connect(t, `${url}/hp`)
  await connected(socket)
  let pinged = false
  socket.on('ping', () => { pinged = true })
  // A ping would come within one idle period; give it several.
  await new Promise((resolve) => setTimeout(resolve, 120))
  t.equal(pinged, false)
  t.ok(socket.connected)
})
