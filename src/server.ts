import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'

/** `npm start`: listen on PORT/HOST and close gracefully on SIGTERM/SIGINT. */
const app = await buildApp()

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing because of an error')
  else app.log.info({ signal }, 'closing')
  await app.close()
})

// The app's own config lives inside the plugin's context; the same env gives the same values.
const { port, host, databaseUrl, redisUrl, dataDir, docsEnabled, metricsEnabled, demoEnabled } = loadConfig()
try {
  const address = await app.listen({ port, host })
  const mode = databaseUrl || redisUrl
    ? `services (${databaseUrl ? 'PostgreSQL' : `PGlite in ${dataDir}`}, ${redisUrl ? 'Redis' : 'in-process store'})`
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
