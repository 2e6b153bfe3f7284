import { readFileSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
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
/** A response schema without a description shows as "Default Response": name its status instead. */
function describeResponses (schema: { response?: Record<string, unknown> }): void {
  for (const [code, response] of Object.entries(schema.response ?? {})) {
    if (typeof response !== 'object' || response === null || 'description' in response) continue
    // A copy: response schemas are shared between routes.
    schema.response![code] = { ...response, description: STATUS_CODES[Number(code)] ?? `HTTP ${code}` }
  }
}

/** `GET /api/groups/:id/members` → `getApiGroupsIdMembers`. */
export function operationIdOf (method: string, url: string): string {
  const words = url.split(/[^A-Za-z0-9]+/).filter(Boolean)
  return method.toLowerCase() + words.map(w => w[0].toUpperCase() + w.slice(1)).join('')
}

export default fp<DocsPluginOptions>(async (app, opts) => {
  const prefix = opts.prefix ?? ''
  // Every operation gets an id (e.g. `getApiGroupsById`) for client generators; a route may set its own.
  app.addHook('onRoute', (route) => {
    if (route.schema?.hide === true) return
    const schema = (route.schema ??= {}) as { operationId?: string }
    schema.operationId ??= operationIdOf([route.method].flat()[0], route.url.slice(prefix.length))
    describeResponses(route.schema as { response?: Record<string, unknown> })
  })
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: `${name} REST API`, version, description: `${pkg.description ?? name}. Socket events: \`${prefix}/asyncapi.json\`; metrics: \`${prefix}/metrics\`.` },
      tags: [
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'auth', description: 'Registered users and their JWTs' },
        { name: 'public rooms', description: 'Public rooms for anonymous users, joined over /public-room/{roomId}' },
        { name: 'sync', description: 'Watch-party rooms, joined by code over /sync' },
        { name: 'groups', description: 'Persistent chat groups, with history and presence' },
        { name: 'channels', description: 'Chat channels that keep their history' },
        { name: 'admin', description: 'Rooms, broadcasts, statistics and disconnects for operators (admin JWT or x-api-key)' },
        { name: 'moderation', description: 'Kick, ban and mute in any room, and the audit log (admin JWT or x-api-key)' },
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
