import { readdir, readFile } from 'node:fs/promises'
import t from 'tap'
import Fastify from 'fastify'
import configPlugin from '../../plugins/config.js'
import demoPlugin, { DEMO_CSP } from '../../plugins/demo.js'
import { realtime } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { buildTestApp, sharedPglite, IP_HASH_SECRET, JWT_SECRET } from '../helper.js'

/** Where and how the demo page is served (no browser needed); demo.test.ts drives it. */

const publicDir = new URL('../../public/', import.meta.url)

/** The demo plugin alone on a bare Fastify, with its one dependency. */
async function bareApp (test: Pick<typeof t, 'teardown'>, env: NodeJS.ProcessEnv, standalone: boolean) {
  const app = Fastify()
  await app.register(configPlugin, { env, logLevel: 'silent' })
  await app.register(demoPlugin, { standalone })
  test.teardown(() => app.close())
  await app.ready()
  return app
}

t.test('on for the standalone app, off for a host, DEMO_ENABLED overrides both', async (t) => {
  const cases = [
    { env: {}, standalone: true, served: true },
    { env: {}, standalone: false, served: false },
    { env: { DEMO_ENABLED: 'false' }, standalone: true, served: false },
    { env: { DEMO_ENABLED: 'true' }, standalone: false, served: true }
  ]
  for (const { env, standalone, served } of cases) {
    const app = await bareApp(t, env, standalone)
    const res = await app.inject('/')
    t.equal(res.statusCode, served ? 200 : 404, `${JSON.stringify(env)}, standalone ${standalone}: ${served ? 'served' : 'not served'}`)
  }
  t.throws(() => loadConfig({ DEMO_ENABLED: 'maybe' }), /DEMO_ENABLED/, 'a DEMO_ENABLED that is not a boolean is refused')
})

t.test('every response of the demo carries the CSP; the API\'s do not', async (t) => {
  const { app } = await buildTestApp(t, { listen: false })
  const page = await app.inject('/')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.equal(page.headers['content-security-policy'], DEMO_CSP)
  t.equal(page.headers['x-content-type-options'], 'nosniff')
  t.match(page.body, /<script type="module" src="app.js"><\/script>/, 'the page loads its module from a file')
  t.notMatch(page.body, /<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|style=/i, 'no inline script, handler or style in the page')
  for (const file of await readdir(publicDir)) {
    const res = await app.inject(`/${file}`)
    t.equal(res.statusCode, 200, `/${file} is served`)
    t.equal(res.headers['content-security-policy'], DEMO_CSP, `/${file} has the CSP`)
  }
  const health = await app.inject('/health')
  t.equal(health.statusCode, 200)
  t.notOk(health.headers['content-security-policy'], 'the headers stay in the demo\'s context')
  const missing = await app.inject('/nope.js')
  t.equal(missing.statusCode, 404, 'no catch-all: an unknown file is the app\'s 404')
  t.equal(missing.json().code, 'NOT_FOUND')
})

t.test('every file the page and its modules refer to is served, the Socket.IO client too', async (t) => {
  const { url } = await buildTestApp(t, { listen: true })
  const refs = new Set<string>()
  for (const file of await readdir(publicDir)) {
    const text = await readFile(new URL(file, publicDir), 'utf8')
    const found = file.endsWith('.html')
      ? [...text.matchAll(/(?:src|href)="([^"]+)"/g)]
      : [...text.matchAll(/^import .* from '([^']+)'/gm)]
    for (const [, ref] of found) refs.add(ref)
  }
  t.ok(refs.has('./socket.io/socket.io.esm.min.js'), 'the page imports the client Socket.IO serves')
  for (const ref of refs) {
    const res = await fetch(new URL(ref, `${url}/`))
    t.equal(res.status, 200, `${ref} is served`)
    await res.arrayBuffer()
  }
})

t.test('the page renders what users send as text: no HTML sinks in its scripts', async (t) => {
  for (const file of (await readdir(publicDir)).filter((f) => f.endsWith('.js'))) {
    const code = (await readFile(new URL(file, publicDir), 'utf8')).replace(/^\s*\/\/.*$/gm, '')
    t.notMatch(code, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|srcdoc|eval\(|new Function/, `${file} uses none`)
  }
})

t.test('an embedding host keeps its `/`; with demoEnabled the page lives under the prefix', async (t) => {
  const env = { JWT_SECRET, IP_HASH_SECRET, LOG_LEVEL: 'silent' }
  const database = await sharedPglite()

  const plain = Fastify()
  t.teardown(() => plain.close())
  plain.get('/', async () => ({ host: true }))
  await plain.register(realtime, { env, database })
  await plain.ready()
  t.same((await plain.inject('/')).json(), { host: true }, 'the host\'s own route answers')

  const prefixed = Fastify()
  t.teardown(() => prefixed.close())
  await prefixed.register(realtime, { env, database, prefix: '/rt', demoEnabled: true })
  await prefixed.ready()
  const bare = await prefixed.inject('/rt?x=1')
  t.equal(bare.statusCode, 308, '/rt redirects, since the page\'s references are relative')
  t.equal(bare.headers.location, '/rt/?x=1')
  const page = await prefixed.inject('/rt/')
  t.equal(page.statusCode, 200)
  t.equal(page.headers['content-security-policy'], DEMO_CSP)
  t.equal((await prefixed.inject('/rt/app.js')).statusCode, 200, 'its module is under the prefix too')
  t.equal((await prefixed.inject('/')).statusCode, 404, 'nothing at the host\'s root')
})
