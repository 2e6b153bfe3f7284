import t from 'tap'
import type { ManagerOptions, SocketOptions } from 'socket.io-client'
import { buildTestApp, connect, connected, modes, registerUser, servicesSkipReason } from '../helper.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

type Options = Partial<ManagerOptions & SocketOptions>

for (const mode of modes()) {
  t.test(`${mode}: CORS_ORIGIN is enforced on Socket.IO handshakes`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, env: { CORS_ORIGIN: 'http://good.example,http://also.example' } })
    const { token } = await registerUser(app)
    let seenOrigins: Array<string | undefined> = []
    app.io.engine.on('initial_headers', (_headers: unknown, req: { headers: { origin?: string } }) => {
      seenOrigins.push(req.headers.origin)
    })
    app.io.engine.on('connection_error', (err: { req: { headers: { origin?: string } } }) => {
      seenOrigins.push(err.req.headers.origin)
    })
    const attempt = (transport: 'websocket' | 'polling', origin?: string) => {
      const options: Options = { transports: [transport], auth: { token } }
      if (origin) options.extraHeaders = { origin }
      return connect(t, url, options)
    }
    for (const transport of ['websocket', 'polling'] as const) {
      await t.test(transport, async (t) => {
        seenOrigins = []
        await t.rejects(connected(attempt(transport, 'http://evil.example')), `a foreign Origin is refused over ${transport}`)
        t.ok(seenOrigins.includes('http://evil.example'), 'the Origin header reached the server')
        const good = attempt(transport, 'http://good.example')
        await connected(good)
        t.ok(good.connected, 'a configured Origin connects')
        const also = attempt(transport, 'http://also.example')
        await connected(also)
        t.ok(also.connected, 'every listed Origin connects')
        const none = attempt(transport)
        await connected(none)
        t.ok(none.connected, 'a client without Origin (not a browser) connects')
      })
    }
  })

  t.test(`${mode}: CORS_ORIGIN=* allows any Origin`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const { token } = await registerUser(app)
    for (const transport of ['websocket', 'polling'] as const) {
      const socket = connect(t, url, { transports: [transport], auth: { token }, extraHeaders: { origin: 'http://anything.example' } })
      await connected(socket)
      t.ok(socket.connected, transport)
    }
  })
}
