import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { userRouteSchemas } from '../src/contract/users.js'
import { createUserDirectory } from '../src/auth/directory.js'

/** The user directory for signed-in users (the demo adds group members by username with it). */
const userRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const directory = createUserDirectory({ db: app.sql.db })

  app.get('/api/users', { schema: userRouteSchemas.search, preHandler: app.realtimeAuth.authenticate }, async (request) => {
    return await directory.search(request.query)
  })
}

export default userRoutes
