import fp from 'fastify-plugin'
import { createDatabase, type Database } from '../src/db/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** drizzle on PostgreSQL (DATABASE_URL) or on embedded PGlite. */
    sql: Database
  }
}

export interface DbPluginOptions {
  /** An already open database (shared by several app instances in tests); not closed here. */
  database?: Database
}

export default fp<DbPluginOptions>(async (app, opts) => {
  const { databaseUrl, dataDir } = app.realtimeConfig
  const database = opts.database ?? await openWithinPluginTimeout(app.initialConfig.pluginTimeout, { databaseUrl, dataDir })
  app.decorate('sql', database)
  if (!opts.database) app.addHook('onClose', async () => { await database.close() })
  app.log.debug({ kind: database.kind }, 'database ready')
}, { name: 'db', dependencies: ['config'] })

/**
 * Opens the database, failing a little before Fastify's own plugin timeout would with a message
 * that says what to do (Fastify's own only names the plugin).
 */
async function openWithinPluginTimeout (pluginTimeout: number | undefined, options: Parameters<typeof createDatabase>[0]): Promise<Database> {
  const opening = createDatabase(options)
  if (!pluginTimeout) return await opening
  const limitMs = Math.max(pluginTimeout - 250, pluginTimeout * 0.9)
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const what = options.databaseUrl ? 'PostgreSQL' : `PGlite in ${options.dataDir}`
      reject(new Error(`roomwire: opening and migrating the database (${what}) took more than ${limitMs} ms, ` +
        `close to Fastify's pluginTimeout (${pluginTimeout} ms): create the host app with a longer one, ` +
        'e.g. Fastify({ pluginTimeout: 60_000 }), or pass an open database in the `database` option'))
    }, limitMs)
  })
  // A late open still finishes: close it so that PGlite or the pool does not keep the process up.
  late.catch(() => opening.then(async (db) => { await db.close() }, () => {}))
  try {
    return await Promise.race([opening, late])
  } finally {
    clearTimeout(timer)
  }
}
