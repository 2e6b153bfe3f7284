import t from 'tap'
import { readFileSync } from 'node:fs'
import Fastify, { type RouteOptions } from 'fastify'
import { realtime } from '../../src/app.js'
import { configVariables } from '../../src/config.js'
import { chatEvents, publicRoomEvents, syncEvents } from '../../src/contract/events.js'
import { IP_HASH_SECRET, JWT_SECRET, sharedPglite } from '../helper.js'

const protocol = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8')

t.test('docs/protocol.md names every configuration variable, namespace and client event', async (t) => {
  for (const variable of Object.values(configVariables)) t.match(protocol, `\`${variable}\``, variable)
  for (const ns of [publicRoomEvents, syncEvents, chatEvents]) {
    t.match(protocol, ns.address.replace(/\{(\w+)\}/g, ':$1'), ns.address)
    for (const event of Object.keys(ns.client)) t.match(protocol, `\`${event}\``, `${ns.address} ${event}`)
  }
})

t.test('docs/protocol.md lists every REST route; each OpenAPI operation has a unique operationId', async (t) => {
  const host = Fastify({ logger: false, pluginTimeout: 120_000 })
  const routes: RouteOptions[] = []
  host.addHook('onRoute', (route) => { routes.push(route) })
  await host.register(realtime, { env: { JWT_SECRET, IP_HASH_SECRET, LOG_LEVEL: 'silent' }, database: await sharedPglite() })
  await host.ready()
  t.teardown(() => host.close())
  for (const route of routes) {
    if (route.schema?.hide === true || route.url.startsWith('/docs') || route.method === 'HEAD') continue
    t.match(protocol, route.url.replace(/\/:\w+$/, ''), `${route.method} ${route.url}`)
  }
  const spec = (await host.inject('/docs/json')).json() as { paths: Record<string, Record<string, { operationId?: string }>> }
  const ids = Object.values(spec.paths).flatMap(ops => Object.values(ops).map(op => op.operationId))
  t.ok(ids.length >= 35)
  t.notOk(ids.includes(undefined), 'every operation has an operationId')
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
})
