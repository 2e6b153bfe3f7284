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
  const database = opts.database ?? await createDatabase({ databaseUrl, dataDir })
  app.decorate('sql', database)
  if (!opts.database) app.addHook('onClose', async () => { await database.close() })
  app.log.debug({ kind: database.kind }, 'database ready')
}, { name: 'db', dependencies: ['config'] })
