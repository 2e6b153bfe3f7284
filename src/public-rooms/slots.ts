import { instanceKeys, slotKeys } from '../store/keys.js'
import type { Store } from '../store/types.js'
import { acquireSlotScript } from './scripts/acquire.js'
import { countSlotsScript } from './scripts/count.js'
import { releaseInstanceSlotsScript } from './scripts/release-instance.js'
import { releaseSlotScript } from './scripts/release.js'

export interface ConnectionSlotsOptions {
  store: Store
  instanceId: string
  /** Concurrent connections allowed per hashed IP across all instances. */
  max: number
  /** Entries older than this are dropped whatever their instance says (default 1 h). */
  staleMs?: number
  now?: () => number
}

/**
 * Concurrent connections per hashed IP across all instances (seed 000: at most 2). Needs the
 * instance lifecycle running on every instance: entries of an instance without a liveness key
 * count as dead at once (acquire and count drop them); `releaseInstance(deadId)` on the
 * lifecycle's `onInstanceDead` frees the rest of them.
 */
export function createConnectionSlots (options: ConnectionSlotsOptions) {
  const { store, instanceId, max, staleMs = 3_600_000, now = Date.now } = options
  const check = (ipHash: string): string => {
    // '|' separates the parts of set members; an HMAC hex digest never contains it.
    if (ipHash === '' || ipHash.includes('|')) throw new Error(`invalid ip hash ${JSON.stringify(ipHash)}`)
    return ipHash
  }
  // Slots this instance's sockets hold (socket id → IP hash), written back when the store lost them.
  const held = new Map<string, string>()

  async function take (ipHash: string, socketId: string): Promise<[number, number]> {
    return await store.run(acquireSlotScript, [slotKeys.ip(check(ipHash)), slotKeys.instance(instanceId)],
      [now(), staleMs, max, instanceId, socketId, ipHash, instanceKeys.alive.pattern, slotKeys.instance.pattern]) as [number, number]
  }

  async function free (ipHash: string, socketId: string): Promise<number> {
    return await store.run(releaseSlotScript, [slotKeys.ip(check(ipHash)), slotKeys.instance(instanceId)],
      [`${instanceId}|${socketId}`, `${ipHash}|${socketId}`]) as number
  }

  return {
    max,

    /** Takes a slot for the socket if fewer than `max` are held; idempotent per socket. */
    async acquire (ipHash: string, socketId: string): Promise<{ ok: boolean, count: number }> {
      const [ok, count] = await take(ipHash, socketId)
      if (ok === 1) held.set(socketId, ipHash)
      return { ok: ok === 1, count }
    },

    /** Frees the socket's slot (a no-op when it holds none); resolves to the count left. */
    async release (ipHash: string, socketId: string): Promise<number> {
      held.delete(socketId)
      return await free(ipHash, socketId)
    },

    /** Slots held for the IP hash now, after dropping stale and dead entries. */
    async count (ipHash: string): Promise<number> {
      return await store.run(countSlotsScript, [slotKeys.ip(check(ipHash))],
        [now(), staleMs, ipHash, instanceId, instanceKeys.alive.pattern, slotKeys.instance.pattern]) as number
    },

    /** Frees every slot an instance holds (this one by default, on graceful shutdown); resolves to how many. */
    async releaseInstance (ofInstance: string = instanceId): Promise<number> {
      if (ofInstance === instanceId) held.clear()
      return await store.run(releaseInstanceSlotsScript, [slotKeys.instance(ofInstance)], [ofInstance, slotKeys.ip.pattern]) as number
    },

    /** After the store lost its data: every slot this instance's sockets hold, taken again. */
    async restore (): Promise<void> {
      for (const [socketId, ipHash] of [...held]) {
        const [ok] = await take(ipHash, socketId)
        // Released meanwhile: give it back, so that the write-back leaves no ghost slot.
        if (!held.has(socketId) && ok === 1) await free(ipHash, socketId)
      }
    }
  }
}

export type ConnectionSlots = ReturnType<typeof createConnectionSlots>
