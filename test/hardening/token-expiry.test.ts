import t from 'tap'
import { buildTestApp, connect, connected, modes, once, registerUser, servicesSkipReason } from '../helper.js'
import { claims, hs256 } from '../tokens.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

for (const mode of modes()) {
  t.test(`${mode}: a socket is disconnected when its JWT expires`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode, tokenSweepMs: 50 })
    const { user } = await registerUser(app, undefined, 'Short Lived')
    const longToken = hs256(claims({ sub: user.id, username: user.username, name: user.displayName }))
    for (const [nsp, errorEvent] of [['/', 'error'], ['/sync', 'room:error']] as const) {
      await t.test(`namespace ${nsp}`, async (t) => {
        // Expires one to two seconds from now (exp has a resolution of one second).
        const exp = Math.floor(Date.now() / 1000) + 2
        const token = hs256(claims({ sub: user.id, username: user.username, name: user.displayName, exp }))
        const short = connect(t, url + nsp, { auth: { token } })
        const long = connect(t, url + nsp, { auth: { token: longToken } })
        await Promise.all([connected(short), connected(long)])
        const held = app.io.of(nsp).sockets.get(long.id!)
        t.ok(held, 'the server holds the socket')
        t.equal(held!.handshake.auth.token, undefined, 'once verified, the token is not kept in the handshake')
        t.equal(typeof held!.data.tokenExp, 'number', 'its expiry is')
        const error = once(short, errorEvent, 5_000)
        const gone = once<string>(short, 'disconnect', 5_000)
        t.same(await error, { code: 'INVALID_TOKEN', message: 'Token expired' }, 'the error event comes first')
        t.equal(await gone, 'io server disconnect')
        t.ok(long.connected, 'a socket with a valid token stays')
      })
    }
  })
}
