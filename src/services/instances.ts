import { instanceKeys, KEY_OF_LUA } from '../store/keys.js'
import type { Script, Store } from '../store/types.js'
import { defaultErrorSink, repeat, type ErrorSink } from './timer.js'

export interface InstanceRegistryOptions {
  store: Store
  instanceId: string
  /** How long an instance counts as alive after its last heartbeat. */
  ttlMs: number
  /** Default ttlMs / 3, so two missed beats in a row still keep the instance alive. */
  heartbeatMs?: number
  now?: () => number
  onError?: ErrorSink
}

export { instanceKeys } from '../store/keys.js'

// Both writes in one script: a sweeper must never see the membership without the alive key.
const heartbeatScript: Script = {
  name: 'instances.heartbeat',
  lua: `
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[2])
return 1`,
  local (ops, [alive, all], [, instanceId, stamp, ttlMs]) {
    ops.set(alive, stamp, Number(ttlMs))
    ops.sAdd(all, instanceId)
    return 1
  }
}

/** KEYS: instances; ARGV: p, alive key pattern → ids whose alive key is gone */
const deadScript: Script = {
  name: 'instances.dead',
  lua: KEY_OF_LUA + `
local dead = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', key_of(ARGV[2], id)) == 0 then dead[#dead + 1] = id end
end
return dead`,
  local (ops, [all], [prefix]) {
    return ops.sMembers(all).filter((id) => !ops.exists(prefix + instanceKeys.alive(id)))
  }
}

const leaveScript: Script = {
  name: 'instances.leave',
  lua: `
redis.call('DEL', KEYS[1])
return redis.call('SREM', KEYS[2], ARGV[2])`,
  local (ops, [alive, all], [, instanceId]) {
    ops.del(alive)
    return ops.sRem(all, instanceId)
  }
}

/**
 * Liveness of the instances sharing a store: each refreshes `instance:{id}:alive` (PX ttl) and
 * belongs to the set `instances`; a member whose alive key has expired crashed or hung, and
 * the others sweep what it left behind (presence, connection slots).
 */
export function createInstanceRegistry (options: InstanceRegistryOptions) {
  const { store, instanceId, ttlMs, now = Date.now } = options
  const heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.floor(ttlMs / 3))
  const onError = options.onError ?? defaultErrorSink('instance registry')
  // '|' separates the instance from the socket in connection-slot members.
  if (instanceId === '' || instanceId.includes('|')) throw new Error(`invalid instance id ${JSON.stringify(instanceId)}`)
  if (heartbeatMs >= ttlMs) throw new RangeError(`heartbeat (${heartbeatMs} ms) must be shorter than the ttl (${ttlMs} ms)`)

  async function beat (): Promise<void> {
    await store.run(heartbeatScript, [instanceKeys.alive(instanceId), instanceKeys.all], [instanceId, now(), ttlMs])
  }
  const heartbeat = repeat(heartbeatMs, beat, onError)

  return {
    instanceId,
    ttlMs,
    heartbeatMs,

    /** Announces this instance (rejects when the store is down) and keeps it alive. */
    async start (): Promise<void> {
      await beat()
      heartbeat.start()
    },

    beat,

    /** Stops refreshing and removes nothing, as a crash would (tests; a hard exit). */
    stopHeartbeat (): void {
      heartbeat.stop()
    },

    async isAlive (id: string): Promise<boolean> {
      return await store.exists(instanceKeys.alive(id))
    },

    /** Registered instances whose liveness key has expired, in one atomic look. */
    async deadInstances (): Promise<string[]> {
      return await store.run(deadScript, [instanceKeys.all], [instanceKeys.alive.pattern]) as string[]
    },

    /**
     * Leaves the registry. Drop this instance's presence and slots first: once it is no
     * longer a member, no other instance would sweep what it left.
     */
    async stop (): Promise<void> {
      heartbeat.stop()
      await store.run(leaveScript, [instanceKeys.alive(instanceId), instanceKeys.all], [instanceId])
    }
  }
}

export type InstanceRegistry = ReturnType<typeof createInstanceRegistry>
