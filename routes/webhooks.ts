import type { FastifyPluginAsync, onRequestAsyncHookHandler } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { AppError } from '../src/errors.js'
import { webhookRouteSchemas, type DeliveryView, type WebhookEndpointView } from '../src/webhooks/contract.js'
import type { Delivery } from '../src/webhooks/deliveries.js'
import type { WebhookEndpoint } from '../src/webhooks/endpoints.js'
import { isWebhookSecret } from '../src/webhooks/signature.js'

const toEndpointView = ({ id, url, events, source, createdAt }: WebhookEndpoint): WebhookEndpointView =>
  ({ id, url, events, source, createdAt: createdAt?.toISOString() ?? null })

const toDeliveryView = (d: Delivery): DeliveryView => ({
  ...d,
  nextAttemptAt: d.nextAttemptAt.toISOString(),
  createdAt: d.createdAt.toISOString(),
  deliveredAt: d.deliveredAt?.toISOString() ?? null
})

/** Admin REST for webhook endpoints and deliveries; one hook guards them all, as routes/admin.ts does. */
const webhookRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { webhooks } = app
  app.addHook('onRequest', app.realtimeAuth.requireAdmin as onRequestAsyncHookHandler)

  app.post('/api/webhooks', { schema: webhookRouteSchemas.create }, async (request, reply) => {
    const { url, events, secret } = request.body
    if (secret !== undefined && !isWebhookSecret(secret)) {
      throw new AppError('INVALID_REQUEST', 'secret must be whsec_ followed by base64 of at least 16 bytes')
    }
    const endpoint = await webhooks.endpoints.create({ url, events, secret })
    return reply.code(201).send({ webhook: { ...toEndpointView(endpoint), secret: endpoint.secret } })
  })

  app.get('/api/webhooks', { schema: webhookRouteSchemas.list }, async () => {
    return { webhooks: (await webhooks.endpoints.list()).map(toEndpointView) }
  })

  app.delete('/api/webhooks/:id', { schema: webhookRouteSchemas.remove }, async (request, reply) => {
    if (!(await webhooks.endpoints.remove(request.params.id))) {
      throw new AppError('WEBHOOK_NOT_FOUND', 'No webhook endpoint stored with this id', 404)
    }
    return reply.code(204).send(null)
  })

  app.get('/api/webhooks/deliveries', { schema: webhookRouteSchemas.deliveries }, async (request) => {
    const { status, endpointId, limit = 50 } = request.query
    return { deliveries: (await webhooks.listDeliveries({ status, endpointId, limit })).map(toDeliveryView) }
  })

  app.post('/api/webhooks/deliveries/:id/redeliver', { schema: webhookRouteSchemas.redeliver }, async (request, reply) => {
    const delivery = await webhooks.redeliver(request.params.id)
    if (!delivery) throw new AppError('DELIVERY_NOT_FOUND', 'No webhook delivery with this id', 404)
    return reply.code(202).send({ delivery: toDeliveryView(delivery) })
  })
}

export default webhookRoutes
