import fp from 'fastify-plugin'
import { createPresence, type Presence, type ScopeLeft } from '../src/presence/service.js'
import { reportingPresence } from '../src/presence/changes.js'
import { noRoomEvents } from '../src/services/room-events.js'
import { createWatchers, type Watchers } from '../src/presence/watchers.js'

export type LeftReason = 'sweep' | 'shutdown'
/** offline: users who have no socket anywhere any more (some of them were in no scope). */
export type LeftListener = (left: ScopeLeft[], reason: LeftReason, offline: string[]) => void

export interface PresenceHub {
  /**
   * Users that left scopes without a socket event to say so: the entries of a dead instance
   * (removed by one survivor) or of this instance on shutdown. Namespaces filter their own scopes.
   */
  onLeft (listener: LeftListener): () => void
  /** Work started by socket events that must finish before the store closes (until namespaces track it). */
  track<T> (work: Promise<T>): Promise<T>
}

declare module 'fastify' {
  interface FastifyInstance {
    presence: Presence
    /** Who watches whom for `user:status` (issue 17). */
    watchers: Watchers
    presenceHub: PresenceHub
  }
}

/** Who is connected and where, across instances; leaves the dead instances' entries to one survivor. */
export default fp(async (app) => {
  const { store, instances } = app
  const onError = (err: unknown) => { app.log.warn({ err }, 'presence background work failed') }
  // Watchers first: a dead instance's watcher sockets are forgotten before its users' offline is sent.
  const watchers = createWatchers({ store, lifecycle: instances, max: app.realtimeConfig.presenceWatchlistMax })
  // Its changes go to the room events port (webhooks) when there is one.
  const presence = reportingPresence(createPresence({ store, lifecycle: instances, onError }),
    app.hasDecorator('roomEvents') ? app.roomEvents : noRoomEvents)

  const listeners = new Set<LeftListener>()
  const inflight = new Set<Promise<unknown>>()
  const emitLeft = (left: ScopeLeft[], reason: LeftReason, offline: string[]) => {
    if (left.length === 0 && offline.length === 0) return
    for (const listener of listeners) {
      try { listener(left, reason, offline) } catch (err) { onError(err) }
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
    emitLeft(report.left, 'sweep', report.offline)
  })

  app.decorate('presence', presence)
  app.decorate('watchers', watchers)
  app.decorate('presenceHub', hub)

  // Runs in the instance's shutdown, before it leaves the registry: let socket handlers finish,
  // then drop whatever this instance still holds so other instances see it at once.
  instances.onShutdown(async () => {
    await Promise.allSettled([...inflight])
    await presence.close()
    watchers.close()
    await watchers.removeInstance()
    const report = await presence.removeInstance()
    emitLeft(report.left, 'shutdown', report.offline)
  })
}, { name: 'presence', dependencies: ['config', 'store', 'instance'] })
