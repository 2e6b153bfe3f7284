import t, { type Test } from 'tap'
import Fastify, { type RouteOptions } from 'fastify'
import { realtime } from '../../src/app.js'
import { ADMIN_API_KEY, IP_HASH_SECRET, JWT_SECRET, buildTestApp, sharedPglite } from '../helper.js'
import { validateOpenApi30 } from './openapi-check.js'

const env = { JWT_SECRET, IP_HASH_SECRET, ADMIN_API_KEY, LOG_LEVEL: 'silent' }

/** A host app with roomwire under `prefix`, and every route as Fastify registered it. */
async function hostWithRoutes (t: Test, prefix = '') {
  const host = Fastify({ logger: false, pluginTimeout: 120_000 })
  const routes: RouteOptions[] = []
  host.addHook('onRoute', (route) => { routes.push(route) })
  await host.register(realtime, { env, prefix, database: await sharedPglite() })
  await host.ready()
  t.teardown(() => host.close())
  return { host, routes }
}

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}')

t.test('/docs/json is valid OpenAPI 3.0 and lists every route', async (t) => {
  const { host, routes } = await hostWithRoutes(t)
  const res = await host.inject('/docs/json')
  t.equal(res.statusCode, 200)
  const spec = res.json()
  t.match(spec.openapi, /^3\.0\.\d$/)
  t.same(validateOpenApi30(spec), [], 'no OpenAPI 3.0 violation')

  const documented = routes.filter(r => r.schema?.hide !== true)
  t.ok(documented.length >= 35, `${documented.length} routes to document`)
  for (const route of documented) {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue
      const path = openApiPath(route.url)
      t.ok(spec.paths[path]?.[method.toLowerCase()], `${method} ${route.url} is in the spec`)
      t.ok(spec.paths[path]?.[method.toLowerCase()]?.summary, `${method} ${route.url} has a summary`)
      t.ok(spec.paths[path]?.[method.toLowerCase()]?.tags?.length, `${method} ${route.url} has a tag`)
    }
  }
  for (const must of ['/asyncapi.json', '/metrics', '/health', '/ready', '/api/auth/login', '/api/sync/rooms/{code}', '/api/broadcast']) {
    t.ok(spec.paths[must], `${must} is documented`)
  }
  const operations = Object.values(spec.paths as Record<string, Record<string, any>>).flatMap(p => Object.values(p))
  t.equal(operations.length, documented.flatMap(r => [r.method].flat()).filter(m => m !== 'HEAD').length, 'nothing documented that is not a route')

  t.same(Object.keys(spec.components.securitySchemes).sort(), ['adminApiKey', 'bearerAuth'])
  t.match(spec.components.securitySchemes.adminApiKey, { type: 'apiKey', in: 'header', name: 'x-api-key' })
  t.match(spec.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' })
  t.same(spec.paths['/api/stats'].get.security, [{ adminApiKey: [] }, { bearerAuth: [] }], 'admin routes take the key or an admin JWT')
  t.same(spec.paths['/api/auth/me'].get.security, [{ bearerAuth: [] }])
  t.notOk(spec.paths['/api/public/rooms'].get.security, 'listing public rooms needs nothing')

  const yaml = await host.inject('/docs/yaml')
  t.equal(yaml.statusCode, 200)
  t.match(yaml.body, /^openapi: 3\.0\.3/m, 'the same document as YAML')

  const ui = await host.inject('/docs/')
  t.equal(ui.statusCode, 200, 'the UI is served')
  t.match(ui.headers['content-type'], /text\/html/)
})

t.test('under a prefix, the docs are under it too', async (t) => {
  const { host } = await hostWithRoutes(t, '/rt')
  const res = await host.inject('/rt/docs/json')
  t.equal(res.statusCode, 200)
  const paths = Object.keys(res.json().paths)
  t.ok(paths.length > 0)
  t.ok(paths.every(p => p.startsWith('/rt/')), 'every path carries the prefix')
  const asyncapi = await host.inject('/rt/asyncapi.json')
  t.equal(asyncapi.json().servers.roomwire.pathname, '/rt/socket.io')
})

t.test('the checker itself finds violations (the check above can fail)', async (t) => {
  const { host } = await hostWithRoutes(t)
  const spec = host.inject('/docs/json').then(r => r.json())
  const broken = await spec
  broken.paths['/health'].get.responses = {}
  broken.paths['/api/auth/me'].get.security = [{ nobody: [] }]
  broken.paths['/api/public/rooms/{roomId}'].get.parameters = []
  broken.paths['/api/public/rooms'].get.responses['200'].content['application/json'].schema.properties.rooms = { type: 'null' }
  const found = validateOpenApi30(broken)
  t.ok(found.some(e => e.includes('/health') && e.includes('responses')), 'empty responses')
  t.ok(found.some(e => e.includes('nobody')), 'unknown security scheme')
  t.ok(found.some(e => e.includes('{roomId}')), 'undeclared path parameter')
  t.ok(found.some(e => e.includes("type 'null'")), 'a type OpenAPI 3.0 does not have')
})

t.test('DOCS_ENABLED=false: no docs routes', async (t) => {
  const { app } = await buildTestApp(t, { env: { DOCS_ENABLED: 'false' }, listen: false })
  t.equal((await app.inject('/docs/json')).statusCode, 404)
  t.equal((await app.inject('/asyncapi.json')).statusCode, 404)
  t.equal((await app.inject('/health')).statusCode, 200)
})
