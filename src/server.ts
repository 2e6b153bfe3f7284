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
const { port, host, databaseUrl, redisUrl } = loadConfig()
try {
  const address = await app.listen({ port, host })
  const mode = databaseUrl || redisUrl
    ? `services (${databaseUrl ? 'PostgreSQL' : 'PGlite'}, ${redisUrl ? 'Redis' : 'in-process store'})`
    : 'embedded (PGlite, in-process store)'
  app.log.info(`roomwire listening on ${address} in ${mode} mode`)
} catch (err) {
  app.log.error({ err }, 'failed to start')
  process.exit(1)
}
