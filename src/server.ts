import closeWithGrace from 'close-with-grace'
import type { FastifyServerOptions } from 'fastify'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, loadDotEnv, type Config } from './config.js'

/** `npm start`: listen on PORT/HOST and close gracefully on SIGTERM/SIGINT. */
loadDotEnv()
const config = readConfigOrExit()
// A part that cannot start (Redis refused, PostgreSQL unreachable) says why in one line.
const app = await buildApp({ fastify: loggingOptions(config) }).catch((err: Error) => {
  process.stderr.write(`roomwire: failed to start: ${err.message}\n`)
  process.exit(1)
})

// The drain (CONTRACT §11) takes SHUTDOWN_DRAIN_MS; closing what is left gets 10 s more.
closeWithGrace({ delay: config.shutdownDrainMs + 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing because of an error')
  else app.log.info({ signal }, `closing: draining sockets over ${config.shutdownDrainMs} ms`)
  // On a signal, sockets reconnect elsewhere and recover; after an error there is no time for that.
  if (!err) await app.drainSockets(config.shutdownDrainMs)
  await app.close()
})

// The app's own config lives inside the plugin's context; the same env gives the same values.
const { port, host, databaseUrl, redisUrl, redisClusterNodes, dataDir, docsEnabled, metricsEnabled, demoEnabled } = config
try {
  const address = await app.listen({ port, host })
  const redis = redisClusterNodes ? 'Redis Cluster' : redisUrl ? 'Redis' : null
  const mode = databaseUrl || redis
    ? `services (${databaseUrl ? 'PostgreSQL' : `PGlite in ${dataDir}`}, ${redis ?? 'in-process store'})`
    : `embedded (PGlite in ${dataDir}, in-process store)`
  app.log.info(`roomwire listening on ${address} in ${mode} mode`)
  // Where to look next, one line each, so that they stay readable in the log.
  const places = [
    // The standalone app serves the demo unless DEMO_ENABLED=false.
    demoEnabled !== false && `demo page:       ${address}/`,
    docsEnabled && `REST API docs:   ${address}/docs (OpenAPI JSON at ${address}/docs/json)`,
    docsEnabled && `socket events:   ${address}/asyncapi.json (AsyncAPI 3)`,
    metricsEnabled && `metrics:         ${address}/metrics (Prometheus)`,
    `health:          ${address}/health, ${address}/ready`
  ].filter((line): line is string => typeof line === 'string')
  for (const line of places) app.log.info(line)
} catch (err) {
  app.log.error({ err }, 'failed to start')
  process.exit(1)
}

/** A bad setting is the operator's to fix: one line naming it, no stack. */
function readConfigOrExit (): Config {
  try {
    return loadConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`roomwire: ${err.message}\n`)
    process.exit(1)
  }
}

/** Readable lines on a terminal (pino-pretty), JSON lines otherwise (buildApp leaves the probes out of the access log). */
function loggingOptions (config: Config): FastifyServerOptions {
  const pretty = process.stdout.isTTY && !process.env.NO_PRETTY_LOGS
  return {
    logger: {
      level: config.logLevel,
      ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
    }
  }
}
