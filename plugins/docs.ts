import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { buildAsyncApi } from '../src/asyncapi.js'
import { chatEvents, publicRoomEvents, syncEvents, type NamespaceEvents } from '../src/contract/events.js'
import { eventTablesOf } from '../src/socket/event-table.js'
import { packageRoot } from '../src/paths.js'

export interface DocsPluginOptions {
  /** The realtime plugin's route prefix (Socket.IO listens on `${prefix}/socket.io`). */
  prefix?: string
}

const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { name?: string, version?: string, description?: string }
const name = pkg.name ?? 'roomwire'
const version = pkg.version ?? '0.0.0'

const byAddress: Record<string, NamespaceEvents> = Object.fromEntries(
  [publicRoomEvents, syncEvents, chatEvents].map(ns => [ns.address, ns])
)

/**
 * API docs: OpenAPI from the route schemas (`@fastify/swagger`, UI at `/docs`, JSON at
 * `/docs/json`) and the AsyncAPI 3 document of the socket events at `/asyncapi.json`.
 * Registered before the routes: swagger collects a route when it is added.
 */
export default fp<DocsPluginOptions>(async (app, opts) => {
  const prefix = opts.prefix ?? ''
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: `${name} REST API`, version, description: `${pkg.description ?? name}. Socket events: \`${prefix}/asyncapi.json\`; metrics: \`${prefix}/metrics\`.` },
      tags: [
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'auth', description: 'Registered users and JWTs (CONTRACT §3)' },
        { name: 'public rooms', description: 'Public rooms and anonymous users (CONTRACT §4, seed 000)' },
        { name: 'sync', description: 'Watch-party rooms (CONTRACT §5, seed 002)' },
        { name: 'groups', description: 'Chat groups (CONTRACT §6, seed 001)' },
        { name: 'channels', description: 'Chat channels (CONTRACT §6, seed 004)' },
        { name: 'admin', description: 'Admin REST over the service API (CONTRACT §7)' },
        { name: 'docs', description: 'Machine-readable descriptions and metrics' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT from /api/auth/login or /api/auth/register (HS256, JWT_SECRET).' },
          adminApiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'ADMIN_API_KEY; an admin JWT (role `admin`) works too.' }
        }
      }
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  // Generated once at start; only the server's host follows the request.
  const document = buildAsyncApi({ title: name, version, path: `${prefix}/socket.io` })
  const servers = document.servers as { roomwire: Record<string, unknown> }
  app.get('/asyncapi.json', {
    schema: { tags: ['docs'], summary: 'AsyncAPI 3.0 document of every Socket.IO namespace, event and payload' }
  }, async (request) => {
    return { ...document, servers: { roomwire: { ...servers.roomwire, host: request.host } } }
  })

  // The document is built from the contract's catalog: say so at start when a namespace
  // handles an event the catalog lacks or validates it with another schema.
  app.addHook('onReady', async () => {
    for (const table of eventTablesOf(app.io)) {
      const documented = byAddress[table.namespace]?.client as Record<string, { payload: unknown }> | undefined
      for (const name of table.names) {
        if (documented?.[name]?.payload !== table.schemas[name]) {
          app.log.warn({ namespace: table.namespace, event: name }, 'socket event missing from the AsyncAPI catalog (src/contract/events.ts)')
        }
      }
    }
  })
}, { name: 'docs', dependencies: ['config', 'socket-io'] })
