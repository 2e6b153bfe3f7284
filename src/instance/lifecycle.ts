import { randomUUID } from 'node:crypto'
import { instanceKeys } from '../store/keys.js'
import type { Store } from '../store/types.js'
import { defaultErrorSink, repeat, type ErrorSink } from '../services/timer.js'
import { claimScript, releaseScript } from './scripts/claim.js'
import { deadScript } from './scripts/dead.js'
import { heartbeatScript } from './scripts/heartbeat.js'
import { leaveScript } from './scripts/leave.js'

export interface InstanceLifecycleOptions {
  store: Store
  instanceId: string
  /** How long an instance counts as alive after its last heartbeat. */
  ttlMs: number
  /** Default ttlMs / 3, so two missed beats in a row still keep the instance alive. */
  heartbeatMs?: number
  /** How often dead instances are looked for; default ttlMs / 3. */
  sweepIntervalMs?: number
  now?: () => number
  onError?: ErrorSink
  /** After a write-back in which every restore handler succeeded (a log line, typically). */
  onRestored?: () => void
}

/** Cleans up after one dead instance; rejecting leaves the claim for the next sweep to retry. */
export type DeadInstanceHandler = (deadInstanceId: string) => Promise<void>
/** Drops what this instance holds before it leaves the registry. */
export type ShutdownHandler = () => Promise<void>
/** Writes back what this instance holds, after the store lost it; must be idempotent. */
export type RestoreHandler = () => Promise<void>

function unsubscriber<T> (list: T[], item: T): () => void {
  list.push(item)
  return () => {
    const at = list.indexOf(item)
    if (at !== -1) list.splice(at, 1)
  }
}

/**
 * The life of the instances sharing a store: each refreshes `instance:{id}:alive` (PX ttl) and
 * belongs to the set `instances`. One loop looks for members whose alive key has lapsed (they
 * crashed or hung); exactly one survivor claims each and runs every `onInstanceDead` handler
 * (presence, slots, room state, the connection registry). `shutdown()` runs the `onShutdown`
 * handlers, last subscribed first (as Fastify's onClose), then leaves the registry.
 * Each heartbeat also checks that the store still holds what it was given (its epoch key, and
 * the server's run id, which a failover changes): when not, every `onRestore` handler writes
 * back what this instance holds (presence, slots, room state), retried on the next beats until
 * all succeed.
 */
export function createInstanceLifecycle (options: InstanceLifecycleOptions) {
  const { store, instanceId, ttlMs, now = Date.now } = options
  const heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.floor(ttlMs / 3))
  const sweepIntervalMs = options.sweepIntervalMs ?? Math.max(1, Math.floor(ttlMs / 3))
  const onError = options.onError ?? defaultErrorSink('instance lifecycle')
  // '|' separates the instance from the socket in connection-slot members.
  if (instanceId === '' || instanceId.includes('|')) throw new Error(`invalid instance id ${JSON.stringify(instanceId)}`)
  if (heartbeatMs >= ttlMs) throw new RangeError(`heartbeat (${heartbeatMs} ms) must be shorter than the ttl (${ttlMs} ms)`)

  const deadHandlers: DeadInstanceHandler[] = []
  const shutdownHandlers: ShutdownHandler[] = []
  const restoreHandlers: RestoreHandler[] = []
  // Dead instances this one is cleaning up now: its claim holds again, so a second sweep must skip them.
  const handling = new Set<string>()
  // What the last heartbeat saw; null before the first one.
  let seen: { epoch: string, serverId: string } | null = null
  let restorePending = false
  let restoring: Promise<void> | null = null
  let restores = 0

  async function beat (): Promise<void> {
    const [epoch, serverId] = await Promise.all([
      store.run(heartbeatScript, [instanceKeys.alive(instanceId), instanceKeys.all, instanceKeys.epoch],
        [instanceId, now(), ttlMs, randomUUID()]) as Promise<string>,
      store.serverId()
    ])
    if (seen !== null && (seen.epoch !== epoch || seen.serverId !== serverId)) restorePending = true
    seen = { epoch, serverId }
    // Not awaited: the heartbeat must go on while a large write-back runs.
    if (restorePending && restoring === null) restoring = restore().finally(() => { restoring = null })
  }

  /** Runs every restore handler even when one fails; a failure leaves it pending for the next beat. */
  async function restore (): Promise<void> {
    restorePending = false
    restores++
    for (const handler of [...restoreHandlers]) {
      try {
        await handler()
      } catch (err) {
        restorePending = true
        onError(err)
      }
    }
    if (!restorePending) options.onRestored?.()
  }

  async function deadInstances (): Promise<string[]> {
    return await store.run(deadScript, [instanceKeys.all], [instanceKeys.alive.pattern]) as string[]
  }

  async function claim (deadId: string): Promise<boolean> {
    const reply = await store.run(claimScript, [instanceKeys.alive(deadId), instanceKeys.claims, instanceKeys.all],
      [deadId, instanceId, instanceKeys.alive.pattern])
    return reply === 1
  }

  /** Runs every handler even when one fails; the claim is released only when all succeeded. */
  async function handleDead (deadId: string): Promise<void> {
    let failed = false
    for (const handler of [...deadHandlers]) {
      try {
        await handler(deadId)
      } catch (err) {
        failed = true
        onError(err)
      }
    }
    if (!failed) await store.run(releaseScript, [instanceKeys.all, instanceKeys.claims], [deadId])
  }

  /** One pass of dead-instance detection; resolves with the dead instances this one handled. */
  async function sweep (): Promise<string[]> {
    const handled: string[] = []
    for (const id of await deadInstances()) {
      // This instance is running, whatever its key says; its next heartbeat restores it.
      if (id === instanceId || handling.has(id)) continue
      handling.add(id)
      try {
        if (!(await claim(id))) continue
        await handleDead(id)
        handled.push(id)
      } finally {
        handling.delete(id)
      }
    }
    return handled
  }

  const heartbeat = repeat(heartbeatMs, beat, onError)
  const sweeper = repeat(sweepIntervalMs, sweep, onError)

  return {
    instanceId,
    ttlMs,
    heartbeatMs,
    sweepIntervalMs,

    /** Announces this instance (rejects when the store is down), keeps it alive, starts the sweep. */
    async start (): Promise<void> {
      await beat()
      heartbeat.start()
      sweeper.start()
    },

    beat,
    sweep,
    deadInstances,

    /** Stops the heartbeat and the sweep and removes nothing, as a crash would (tests; a hard exit). */
    stopHeartbeat (): void {
      heartbeat.stop()
      sweeper.stop()
    },

    async isAlive (id: string): Promise<boolean> {
      return await store.exists(instanceKeys.alive(id))
    },

    /** How many write-backs have started (the store lost its data that many times, or retries). */
    get restores (): number { return restores },

    /** Called on every instance once it noticed that the store lost its data (restarted empty, failed over). */
    onRestore (handler: RestoreHandler): () => void {
      return unsubscriber(restoreHandlers, handler)
    },

    /** Called on exactly one survivor per dead instance (again on another if that one dies first). */
    onInstanceDead (handler: DeadInstanceHandler): () => void {
      return unsubscriber(deadHandlers, handler)
    },

    onShutdown (handler: ShutdownHandler): () => void {
      return unsubscriber(shutdownHandlers, handler)
    },

    /**
     * Stops the loops, lets every subscriber drop what this instance holds, then leaves the
     * registry: once it is no longer a member, no other instance would sweep what it left, so
     * after a failed handler it stays a member and the survivors clean up once its key lapses.
     */
    async shutdown (): Promise<void> {
      sweeper.stop()
      heartbeat.stop()
      await restoring
      let failed = false
      for (const handler of [...shutdownHandlers].reverse()) {
        try {
          await handler()
        } catch (err) {
          failed = true
          onError(err)
        }
      }
      if (failed) return
      try {
        await store.run(leaveScript, [instanceKeys.alive(instanceId), instanceKeys.all], [instanceId])
      } catch (err) {
        onError(err)
      }
    }
  }
}

export type InstanceLifecycle = ReturnType<typeof createInstanceLifecycle>
