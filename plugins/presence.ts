import fp from 'fastify-plugin'
import { createInstanceRegistry, type InstanceRegistry } from '../src/services/instances.js'
import { createPresence, type Presence, type ScopeLeft } from '../src/services/presence.js'
import { createConnectionSlots, type ConnectionSlots } from '../src/services/slots.js'

export type LeftReason = 'sweep' | 'shutdown'
export type LeftListener = (left: ScopeLeft[], reason: LeftReason) => void

export interface PresenceHub {
  /**
   * Users that left scopes without a socket event to say so: the entries of a dead instance
   * (swept by a survivor) or of this instance on shutdown. Namespaces filter their own scopes.
   */
  onLeft (listener: LeftListener): () => void
  /** Work started by socket events that must finish before the store closes. */
  track<T> (work: Promise<T>): Promise<T>
}

declare module 'fastify' {
  interface FastifyInstance {
    instances: InstanceRegistry
    presence: Presence
    presenceHub: PresenceHub
    slots: ConnectionSlots
  }
}

export interface PresencePluginOptions {
  /** Sweep intervals; defaults derive from the TTLs. */
  presenceSweepMs?: number
}

/** The shared realtime services every namespace uses, correct across instances. */
export default fp<PresencePluginOptions>(async (app, opts) => {
  const { store, instanceId } = app
  const config = app.realtimeConfig
  const onError = (err: unknown) => { app.log.warn({ err }, 'presence background work failed') }
  const instances = createInstanceRegistry({ store, instanceId, ttlMs: config.instanceTtlMs, onError })
  const presence = createPresence({ store, instanceId, registry: instances, sweepIntervalMs: opts.presenceSweepMs, onError })
  const slots = createConnectionSlots({ store, instanceId, max: config.publicMaxConnectionsPerIp, staleMs: config.publicSlotStaleMs })

  const listeners = new Set<LeftListener>()
  const inflight = new Set<Promise<unknown>>()
  const emitLeft = (left: ScopeLeft[], reason: LeftReason) => {
    if (left.length === 0) return
    for (const listener of listeners) {
      try { listener(left, reason) } catch (err) { onError(err) }
    }
  }
  const hub: PresenceHub = {
    onLeft (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    track (work) {
      inflight.add(work)
      work.then(() => inflight.delete(work), () => inflight.delete(work))
      return work
    }
  }
  presence.onSweep((report) => {
    app.log.info({ instance: report.instanceId, users: report.offline.length }, 'swept presence of a dead instance')
    emitLeft(report.left, 'sweep')
  })

  await instances.start()
  presence.start()

  app.decorate('instances', instances)
  app.decorate('presence', presence)
  app.decorate('presenceHub', hub)
  app.decorate('slots', slots)

  // Runs before the store closes (onClose hooks run children first): let socket handlers
  // finish, then drop whatever this instance still holds so other instances see it at once.
  app.addHook('onClose', async () => {
    await Promise.allSettled([...inflight])
    await presence.close()
    try {
      const report = await presence.removeInstance()
      emitLeft(report.left, 'shutdown')
      await slots.releaseInstance()
      await instances.stop()
    } catch (err) {
      onError(err)
    }
  })
}, { name: 'presence', dependencies: ['config', 'redis'] })
