import fp from 'fastify-plugin'
import type { onRequestAsyncHookHandler } from 'fastify'
import { namespaceLabel } from './metrics.js'
import { instanceKeys } from '../src/store/keys.js'
import { takeSnapshot, type InstanceSnapshot } from '../src/operations/snapshot.js'
import { repeat } from '../src/services/timer.js'
import { operationsRouteSchemas } from '../src/contract/operations.js'

export interface OperationsPluginOptions {
  /** How often this instance publishes its snapshot (ms); default a third of INSTANCE_TTL_MS. */
  publishMs?: number
}

const snapshotKey = instanceKeys.ops
const PUBLIC_ROOMS_SHOWN = 20

/**
 * The operations page's data: every instance writes a snapshot of its `/metrics` numbers to the
 * store (expiring with its liveness), and `GET /api/ops/overview` (admin) reads all of them, with
 * the liveness of each registered instance, so that one request to any instance shows the fleet.
 */
export default fp<OperationsPluginOptions>(async (app, opts) => {
  const { store, instances, io } = app
  const ttlMs = instances.ttlMs
  const startedAt = Date.now()
  const registry = app.hasDecorator('metricsRegistry') ? app.metricsRegistry : undefined

  async function publish (): Promise<void> {
    const snapshot = await takeSnapshot({ io, registry, instanceId: app.instanceId, startedAt, namespaceLabel })
    await store.set(snapshotKey(app.instanceId), JSON.stringify(snapshot), { ttlMs })
  }
  const publisher = repeat(opts.publishMs ?? Math.max(1, Math.floor(ttlMs / 3)), publish, (err) => {
    app.log.warn({ err }, 'operations snapshot not published')
  })
  await publish()
  publisher.start()
  app.addHook('onClose', async () => {
    publisher.stop()
    await store.del(snapshotKey(app.instanceId)).catch(() => {})
  })

  async function instanceView (id: string) {
    const [alive, raw] = await Promise.all([instances.isAlive(id), store.get(snapshotKey(id))])
    let snapshot: InstanceSnapshot | null = null
    try { snapshot = raw === null ? null : JSON.parse(raw) as InstanceSnapshot } catch { snapshot = null }
    return { instanceId: id, alive, self: id === app.instanceId, snapshot }
  }

  await app.register(async (admin) => {
    admin.addHook('onRequest', app.realtimeAuth.requireAdmin as onRequestAsyncHookHandler)
    admin.get('/api/ops/overview', { schema: operationsRouteSchemas.overview }, async () => {
      // This instance's numbers fresh; the others' as last published.
      await publish()
      const ids = await store.sMembers(instanceKeys.all)
      const [views, stats, rooms] = await Promise.all([
        Promise.all(ids.sort().map(instanceView)),
        app.realtime.getStats(),
        app.publicRooms.rooms.listRooms({ limit: PUBLIC_ROOMS_SHOWN })
      ])
      return {
        at: Date.now(),
        instanceTtlMs: ttlMs,
        instances: views,
        stats,
        publicRooms: rooms.map(({ id, name, capacity, currentOccupancy }) => ({ id, name, capacity, currentOccupancy }))
      }
    })
  })
}, { name: 'operations', dependencies: ['config', 'redis', 'presence', 'socket-io', 'auth', 'public-rooms', 'service-api'] })
