import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { authRouteSchemas } from '../src/contract/auth.js'
import { createUserService } from '../src/auth/users.js'
import type { Identity } from '../src/auth/identity.js'

const publicUser = (u: Identity) => ({ id: u.id, username: u.username, displayName: u.displayName })

/** CONTRACT §3: register, login, me. Login and register are limited per IP more tightly. */
const authRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const users = createUserService({ db: app.sql.db })
  const strict = { rateLimit: { max: app.realtimeConfig.authRateLimitMax, timeWindow: 60_000 } }

  app.post('/api/auth/register', { schema: authRouteSchemas.register, config: strict }, async (request, reply) => {
    const user = await users.register(request.body)
    return reply.code(201).send({ token: app.realtimeAuth.sign(user), user: publicUser(user) })
  })

  app.post('/api/auth/login', { schema: authRouteSchemas.login, config: strict }, async (request) => {
    const user = await users.login(request.body.username, request.body.password)
    return { token: app.realtimeAuth.sign(user), user: publicUser(user) }
  })

  app.get('/api/auth/me', { schema: authRouteSchemas.me, preHandler: app.realtimeAuth.authenticate }, async (request) => {
    const identity = request.identity!
    const stored = await users.byId(identity.id)
    return { user: publicUser(stored ?? identity) }
  })
}

export default authRoutes
