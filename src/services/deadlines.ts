import { deadlineKey } from '../store/keys.js'
import type { Script, Store } from '../store/types.js'
import { defaultErrorSink, notify, repeat, subscribe, type ErrorSink } from './timer.js'

export interface DeadlinesOptions {
  store: Store
  /** Names the queue: `deadlines:{name}`. */
  name: string
  sweepIntervalMs: number
  now?: () => number
  onError?: ErrorSink
}

/** How many due members one script pops; bounds how long a sweep blocks Redis. */
export const POP_BATCH = 500

export { deadlineKey } from '../store/keys.js'

/** KEYS: the sorted set; ARGV: p, now, limit → members due, removed in the same step. */
export const popDueScript: Script = {
  name: 'deadlines.popDue',
  lua: `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due`,
  local (ops, [key], [, now, limit]) {
    const due = ops.zRangeByScore(key, -Infinity, Number(now)).slice(0, Number(limit))
    if (due.length > 0) ops.zRem(key, ...due)
    return due
  }
}

/**
 * A deadline queue shared by all instances (the watch-party reconnect grace): whichever
 * instance pops a due member first is the only one that sees it, so each fires once.
 */
export function createDeadlines (options: DeadlinesOptions) {
  const { store, name, sweepIntervalMs, now = Date.now } = options
  const onError = options.onError ?? defaultErrorSink(`deadlines ${name}`)
  const key = deadlineKey(name)
  const listeners = new Set<(member: string) => void>()

  async function popDue (): Promise<string[]> {
    const popped: string[] = []
    for (;;) {
      const batch = await store.run(popDueScript, [key], [now(), POP_BATCH]) as string[]
      popped.push(...batch)
      if (batch.length < POP_BATCH) return popped
    }
  }

  const sweeper = repeat(sweepIntervalMs, async () => {
    for (const member of await popDue()) notify(listeners, member, onError)
  }, onError)

  return {
    /** Sets (or moves) the member's deadline. */
    async schedule (member: string, atMs: number): Promise<void> {
      await store.zAdd(key, atMs, member)
    },

    /** Resolves true when the member was still pending (so it will not fire). */
    async cancel (member: string): Promise<boolean> {
      return await store.zRem(key, member) === 1
    },

    /** The member's deadline, or null when none is pending. */
    async dueAt (member: string): Promise<number | null> {
      return await store.zScore(key, member)
    },

    popDue,

    /** Called once per due member, on whichever instance popped it. */
    onDue (listener: (member: string) => void): () => void {
      return subscribe(listeners, listener)
    },

    start (): void {
      sweeper.start()
    },

    async close (): Promise<void> {
      sweeper.stop()
    }
  }
}

export type Deadlines = ReturnType<typeof createDeadlines>
