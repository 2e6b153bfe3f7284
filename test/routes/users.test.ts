import t from 'tap'
import { buildTestApp, modes, registerUser } from '../helper.js'

/** GET /api/users: the user directory behind "add member by username". */

for (const mode of modes()) {
  t.test(mode, async (t) => {
    const { app } = await buildTestApp(t, { mode, listen: false })
    const tag = Math.random().toString(36).slice(2, 7)
    const names = [`${tag}_zed`, `${tag}_Amy`, `${tag}_bob`, `${tag}_ann`, `${tag}x_other`]
    for (const name of names) await registerUser(app, name, `Display ${name}`)
    const { token } = await registerUser(app)
    const get = (query: string, auth = true) => app.inject({ url: `/api/users?${query}`, headers: auth ? { authorization: `Bearer ${token}` } : {} })

    t.test('signed-in users only', async (t) => {
      t.equal((await get(`q=${tag}`, false)).statusCode, 401)
    })

    t.test('by the start of the username, any case, in username order; no hash or role', async (t) => {
      const res = await get(`q=${tag.toUpperCase()}_`)
      t.equal(res.statusCode, 200)
      const body = res.json()
      t.same(body.users.map((u: { username: string }) => u.username), [`${tag}_Amy`, `${tag}_ann`, `${tag}_bob`, `${tag}_zed`],
        '`_` is taken literally: the x_other user does not match')
      t.same(Object.keys(body.users[0]).sort(), ['displayName', 'id', 'username'])
      t.equal(body.nextCursor, null)
      t.notMatch(res.body, /scrypt|password|role/i)
    })

    t.test('paginated with limit and cursor', async (t) => {
      const first = (await get(`q=${tag}_&limit=3`)).json()
      t.equal(first.users.length, 3)
      t.equal(first.nextCursor, `${tag}_bob`)
      const second = (await get(`q=${tag}_&limit=3&cursor=${first.nextCursor}`)).json()
      t.same(second.users.map((u: { username: string }) => u.username), [`${tag}_zed`])
      t.equal(second.nextCursor, null)
    })

    t.test('bad input is INVALID_REQUEST', async (t) => {
      for (const query of ['limit=0', 'limit=101', 'q=a%25', 'q=%00', `q=${'a'.repeat(33)}`, 'cursor=ABC']) {
        const res = await get(query)
        t.equal(res.statusCode, 400, query)
        t.equal(res.json().code, 'INVALID_REQUEST', query)
      }
    })
  })
}
