import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import configPlugin, { type ConfigPluginOptions } from '../plugins/config.js'
import dbPlugin from '../plugins/db.js'
import redisPlugin from '../plugins/redis.js'
import storePlugin from '../plugins/store.js'
import instancePlugin from '../plugins/instance.js'
import socketIoPlugin from '../plugins/socket-io.js'
import authPlugin from '../plugins/auth.js'
import rateLimitPlugin from '../plugins/rate-limit.js'
import presencePlugin from '../plugins/presence.js'
import healthPingPlugin from '../plugins/health-ping.js'
import tokenExpiryPlugin from '../plugins/token-expiry.js'
import docsPlugin from '../plugins/docs.js'
import metricsPlugin from '../plugins/metrics.js'
import securityHeadersPlugin from '../plugins/security-headers.js'
import healthRoutes from '../routes/health.js'
import authRoutes from '../routes/auth.js'
import { loadConfig, parseCorsOrigin, parseTrustProxy } from './config.js'
import { installErrorHandling } from './http-errors.js'
import { logRedaction } from './log.js'
import { trustFunction } from './net.js'
import type { Database } from './db/index.js'
import type { ServerOptions } from 'socket.io'

export interface RealtimeOptions extends ConfigPluginOptions {
  /** Route prefix for every REST route; Socket.IO then listens on `${prefix}/socket.io`. */
  prefix?: string
  /** An open database to use instead of opening one (not closed by roomwire). */
  database?: Database
  /** Extra Socket.IO server options. */
  socketIo?: Partial<ServerOptions>
  /** Sweep intervals of the shared services (tests set them in ms). */
  presenceSweepMs?: number
  typingSweepMs?: number
  /** How often sockets are checked for an expired JWT (ms). */
  tokenSweepMs?: number
}

/** What roomwire lifts from its encapsulated context onto the app that registers it. */
const LIFTED = ['io', 'realtime', 'realtimeAuth', 'broadcastToPublicRoom', 'getConnectionCount', 'stopHealthChecks', 'webhooks', 'drainSockets'] as const

/**
 * The whole backend as one Fastify plugin. Everything it needs is registered in an encapsulated
 * context (so a host app's own decorators, hooks and error handler stay its own); the public
 * surface (`io`, `realtime` and the seed-000 helpers) is decorated on the host.
 */
async function realtimePlugin (host: FastifyInstance, opts: RealtimeOptions): Promise<void> {
  const { prefix = '', database, socketIo, presenceSweepMs, typingSweepMs, tokenSweepMs, ...configOptions } = opts
  let inner: FastifyInstance | undefined
  // Registered, not awaited: Fastify then times each part against its own pluginTimeout (10 s
  // by default in a host app) instead of the whole start-up against one.
  host.register(async (app) => {
    inner = app
    app.register(configPlugin, configOptions)
    app.register(fp(async (app) => {
      installErrorHandling(app, { notFound: prefix !== '' || host.hasDecorator('roomwireStandalone') })
      app.register(dbPlugin, { database })
      app.register(redisPlugin)
      app.register(storePlugin)
      app.register(socketIoPlugin, { path: `${prefix}/socket.io`, serverOptions: socketIo })
      app.register(authPlugin)
      app.register(cors, { origin: parseCorsOrigin(app.realtimeConfig.corsOrigin) })
      app.register(securityHeadersPlugin)
      app.register(rateLimitPlugin)
      app.register(instancePlugin, { sweepIntervalMs: presenceSweepMs })
      app.register(import('../plugins/room-events.js'))
      app.register(presencePlugin)
      app.register(healthPingPlugin)
      app.register(tokenExpiryPlugin, { sweepMs: tokenSweepMs })
      // Before every route: swagger collects routes as they are added.
      if (app.realtimeConfig.docsEnabled) app.register(docsPlugin, { prefix })
      if (app.realtimeConfig.metricsEnabled) app.register(metricsPlugin)
      app.register(healthRoutes)
      app.register(authRoutes)
      app.register(import('../routes/users.js'))
      // Namespaces and their REST routes (one line each, kept in this order):
      app.register(import('../plugins/moderation.js'))
      app.register(import('../plugins/public-rooms.js'))
      app.register(import('../routes/public-rooms.js'))
      app.register(import('../plugins/sync.js'))
      app.register(import('../routes/sync.js'))
      app.register(import('../plugins/chat.js'), { typingSweepMs })
      app.register(import('../routes/groups.js'))
      app.register(import('../routes/channels.js'))
      app.register(import('../routes/reads.js'))
      app.register(import('../plugins/service-api.js'))
      app.register(import('../routes/admin.js'))
      app.register(import('../routes/moderation.js'))
      app.register(import('../plugins/webhooks.js'))
      app.register(import('../routes/webhooks.js'))
      app.register(import('../plugins/operations.js'))
      // The demo page at `/` (public/): standalone only unless DEMO_ENABLED says otherwise.
      app.register(import('../plugins/demo.js'), { standalone: host.hasDecorator('roomwireStandalone') })
    }, { name: 'roomwire-parts', dependencies: ['config'] }))
  }, { prefix })
  host.register(fp(async (target) => {
    for (const name of LIFTED) {
      if (inner?.hasDecorator(name)) target.decorate(name, (inner as unknown as Record<string, never>)[name])
    }
  }, { name: 'roomwire-lift' }))
}

export const realtime = fp(realtimePlugin, { name: 'roomwire', fastify: '5.x' })
export default realtime

export interface BuildOptions extends RealtimeOptions {
  /** Fastify server options (the logger, say); trustProxy comes from TRUST_PROXY. */
  fastify?: FastifyServerOptions
}

/** Whether a request URL is one of the probes' paths (`/health`, `/metrics`, under the prefix). */
function quietPaths (prefix: string): (url: string | undefined) => boolean {
  const paths = new Set([`${prefix}/health`, `${prefix}/metrics`])
  return (url) => {
    if (url === undefined) return false
    const query = url.indexOf('?')
    return paths.has(query === -1 ? url : url.slice(0, query))
  }
}

/** A standalone roomwire app: Fastify with the realtime plugin, configured from env and options. */
export async function buildApp (options: BuildOptions = {}): Promise<FastifyInstance> {
  const { fastify: fastifyOptions = {}, ...rest } = options
  const { env = process.env, instanceId: _id, ...overrides } = rest
  const config = loadConfig(env, overrides)
  const { logger, ...otherOptions } = fastifyOptions
  const quiet = quietPaths(rest.prefix ?? '')
  const app: FastifyInstance = Fastify({
    // Probes poll /health and /metrics: no access-log line per poll, and no child logger either
    // (a pino child with the redaction settings was the largest cost of a /health request).
    logController: new LogController({ disableRequestLogging: (request) => quiet(request.url) }),
    childLoggerFactory: (parent, bindings, options, raw) =>
      quiet(raw.url) ? parent : parent.child(bindings, options),
    // Redaction stays on when a caller passes logger options (a stream, a level) of its own.
    logger: logger === undefined || (typeof logger === 'object' && logger !== null)
      ? { level: config.logLevel, ...logRedaction, ...(logger ?? {}) }
      : logger,
    // A function: Fastify itself reads a hop count (TRUST_PROXY=1) as "trust nothing".
    trustProxy: trustFunction(parseTrustProxy(config.trustProxy)) ?? false,
    // PGlite (WASM) and the migrations can take well over Fastify's default 10 s on a busy machine.
    pluginTimeout: 120_000,
    ...otherOptions
  } as FastifyServerOptions)
  app.decorate('roomwireStandalone', true)
  await app.register(realtime, rest)
  return app
}
