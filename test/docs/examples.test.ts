import t from 'tap'
import Fastify from 'fastify'
import { Value } from 'typebox/value'
import type { TSchema } from 'typebox'
import { realtime } from '../../src/app.js'
import { adminRouteSchemas } from '../../src/contract/admin.js'
import { authRouteSchemas } from '../../src/contract/auth.js'
import { channelRouteSchemas, groupRouteSchemas } from '../../src/contract/chat.js'
import { operationsRouteSchemas } from '../../src/contract/operations.js'
import { publicRoomRouteSchemas } from '../../src/contract/public-rooms.js'
import { syncRouteSchemas } from '../../src/contract/sync.js'
import { userRouteSchemas } from '../../src/contract/users.js'
import { ADMIN_API_KEY, IP_HASH_SECRET, JWT_SECRET, sharedPglite } from '../helper.js'

type Schema = TSchema & {
  examples?: unknown[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  anyOf?: Schema[]
  type?: string
  const?: unknown
}
interface RouteSchema { body?: Schema, response?: Record<string, Schema> }

const contract: Record<string, Record<string, RouteSchema>> = {
  auth: authRouteSchemas,
  users: userRouteSchemas,
  'public rooms': publicRoomRouteSchemas,
  sync: syncRouteSchemas,
  groups: groupRouteSchemas,
  channels: channelRouteSchemas,
  admin: adminRouteSchemas,
  operations: operationsRouteSchemas
}

/**
 * What the docs show for a schema: its own example, else one put together from its parts'
 * examples (Swagger UI does the same); undefined where a required part has none, which the UI
 * would fill with a made-up "string".
 */
function sample (schema: Schema): unknown {
  if (schema.examples?.length) return schema.examples[0]
  if (schema.const !== undefined) return schema.const
  if (schema.type === 'null') return null
  if (schema.anyOf) return schema.anyOf.map(sample).find((value) => value !== undefined)
  if (schema.items) {
    const item = sample(schema.items)
    return item === undefined ? undefined : [item]
  }
  if (!schema.properties) return undefined
  const value: Record<string, unknown> = {}
  for (const [key, part] of Object.entries(schema.properties)) {
    const example = sample(part)
    if (example !== undefined) value[key] = example
    else if (schema.required?.includes(key)) return undefined
  }
  return value
}

t.test('every REST body and success response in src/contract has an example that fits its schema', async (t) => {
  for (const [area, routes] of Object.entries(contract)) {
    for (const [name, route] of Object.entries(routes)) {
      const shown = [
        ...(route.body ? [['body', route.body] as const] : []),
        ...Object.entries(route.response ?? {}).filter(([status]) => status.startsWith('2'))
      ]
      for (const [what, schema] of shown) {
        const example = sample(schema)
        t.not(example, undefined, `${area} ${name} ${what}: has an example`)
        t.ok(Value.Check(schema, example), `${area} ${name} ${what}: the example fits the schema`)
      }
      for (const [status, schema] of Object.entries(route.response ?? {}).filter(([status]) => !status.startsWith('2'))) {
        t.ok(Value.Check(schema, sample(schema)), `${area} ${name} ${status}: the error example fits`)
      }
    }
  }
})

t.test('the checks above fail on a made-up "string" where a real example is missing', async (t) => {
  t.equal(sample({ type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as Schema), undefined)
  t.same(sample({ type: 'object', properties: { id: { type: 'string', examples: ['a1'] } }, required: ['id'] } as Schema), { id: 'a1' })
})

t.test('/docs/json carries the examples (the body and response of registering)', async (t) => {
  const host = Fastify({ logger: false, pluginTimeout: 120_000 })
  await host.register(realtime, { env: { JWT_SECRET, IP_HASH_SECRET, ADMIN_API_KEY, LOG_LEVEL: 'silent' }, database: await sharedPglite() })
  t.teardown(() => host.close())
  const spec = (await host.inject('/docs/json')).json()
  const register = spec.paths['/api/auth/register'].post
  t.same(register.requestBody.content['application/json'].example, { username: 'alice', password: 'correct horse battery', displayName: 'Alice' })
  t.match(register.responses['409'].content['application/json'].example, { code: String, message: String }, 'errors have one too')
  const created = spec.paths['/api/groups'].post.responses['201'].content['application/json'].schema
  t.match(created.properties.group.example, { name: 'Book club', role: 'owner' }, 'a nested schema keeps its example')
  const again = Fastify({ logger: false, pluginTimeout: 120_000 })
  await again.register(realtime, { env: { JWT_SECRET, IP_HASH_SECRET, ADMIN_API_KEY, LOG_LEVEL: 'silent' }, database: await sharedPglite() })
  t.teardown(() => again.close())
  const second = (await again.inject('/docs/json')).json()
  t.same(second.paths['/api/auth/register'].post.requestBody, register.requestBody, 'a second app in the process documents the same (the schemas are not consumed)')
})
