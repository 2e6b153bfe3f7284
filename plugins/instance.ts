import fp from 'fastify-plugin'
import { createInstanceLifecycle, type InstanceLifecycle } from '../src/instance/lifecycle.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This instance's heartbeat, the dead-instance detection and the shutdown sequence. */
    instances: InstanceLifecycle
  }
}

export interface InstancePluginOptions {
  /** How often dead instances are looked for; default INSTANCE_TTL_MS / 3. */
  sweepIntervalMs?: number
}

/**
 * Announces this instance and keeps it alive. Its onClose runs after the plugins registered
 * later have closed (Fastify runs onClose hooks in reverse), then the shutdown handlers run and
 * the instance leaves the registry, before the store closes.
 */
export default fp<InstancePluginOptions>(async (app, opts) => {
  const instances = createInstanceLifecycle({
    store: app.store,
    instanceId: app.instanceId,
    ttlMs: app.realtimeConfig.instanceTtlMs,
    sweepIntervalMs: opts.sweepIntervalMs,
    onError: (err) => { app.log.warn({ err }, 'instance lifecycle work failed') },
    onRestored: () => { app.log.info({ restores: instances.restores }, 'wrote back what this instance holds') }
  })
  // First subscribed, so first to run: the log says why the write-backs that follow happen.
  instances.onRestore(async () => {
    app.log.warn({ restores: instances.restores }, 'the store lost its data (Redis restarted empty or failed over): writing back what this instance holds')
  })
  await instances.start()
  app.decorate('instances', instances)
  app.addHook('onClose', async () => { await instances.shutdown() })
}, { name: 'instance', dependencies: ['config', 'store'] })
