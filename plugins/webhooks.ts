import fp from 'fastify-plugin'
import { envEndpoints } from '../src/webhooks/endpoints.js'
import { createWebhooks, type Webhooks } from '../src/webhooks/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Webhook outbox and sender (docs/webhooks.md): `webhooks.enqueue(events, tx?)`. */
    webhooks: Webhooks
  }
}

export interface WebhooksPluginOptions {
  /** How long finished deliveries are kept for the admin listing (ms). */
  retentionMs?: number
}

/**
 * Webhooks delivered at least once from the outbox table. Every instance writes events; the one
 * holding the SQL lease sends them. Metrics go on the app's registry when metrics are on.
 * The room events port (plugins/room-events.ts) feeds it.
 */
export default fp<WebhooksPluginOptions>(async (app, opts) => {
  const config = app.realtimeConfig
  const webhooks = createWebhooks({
    db: app.sql.db,
    instanceId: app.instanceId,
    fromEnv: envEndpoints(config),
    batchIntervalMs: config.webhookBatchIntervalMs,
    leaseTtlMs: config.webhookLeaseTtlMs,
    timeoutMs: config.webhookTimeoutMs,
    retryBaseMs: config.webhookRetryBaseMs,
    retryMaxMs: config.webhookRetryMaxMs,
    maxAttempts: config.webhookMaxAttempts,
    queueBound: config.webhookQueueBound,
    retentionMs: opts.retentionMs,
    registry: app.hasDecorator('metricsRegistry') ? app.metricsRegistry : undefined,
    log: app.log.child({ module: 'webhooks' })
  })
  app.decorate('webhooks', webhooks)
  app.addHook('onReady', async () => {
    await webhooks.refresh()
    webhooks.start()
  })
  if (app.hasDecorator('roomEvents')) {
    // What presence, chat and sync report goes to the outbox; the hub flushes it at shutdown,
    // after presence has reported this instance's departures.
    app.roomEvents.connect(webhooks)
    app.addHook('onClose', async () => { await webhooks.stop() })
  } else {
    app.addHook('onClose', async () => { await webhooks.close() })
  }
}, { name: 'webhooks', dependencies: ['config', 'db'] })
