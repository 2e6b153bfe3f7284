import type { Store } from '../store/types.js'
import { POP_BATCH } from '../services/deadlines.js'
import { defaultErrorSink, notify, repeat, subscribe, type ErrorSink } from '../services/timer.js'
import { typingKeys } from '../store/keys.js'
import { parseMember, type TypingEntry } from './scripts/typing-member.js'
import { typingStartScript } from './scripts/typing-start.js'
import { typingStopScript } from './scripts/typing-stop.js'
import { typingExpireScript } from './scripts/typing-expire.js'

export type { TypingEntry }

export interface TypingOptions {
  store: Store
  /** How long an indicator lasts without a refresh (seed 001: 10 s). */
  ttlMs: number
  /** A refresh re-broadcasts at most this often. */
  throttleMs: number
  /** Default ttlMs / 10. */
  sweepIntervalMs?: number
  now?: () => number
  onError?: ErrorSink
}

export interface Typing {
  /** Starts the sweeper that reports expired indicators. */
  start (): void
  /** The user types in the scope; broadcast: tell the others now (not typing before, or throttle passed). */
  start (scope: string, userId: string): Promise<{ broadcast: boolean }>
  stop (scope: string, userId: string): Promise<{ wasTyping: boolean }>
  /** Stops the user's indicators in these scopes (disconnect, leave); resolves to where one was on. */
  clear (userId: string, scopes: string[]): Promise<string[]>
  /**
   * As clear, for the scopes where this instance started one since it last cleared it: a
   * message's send stops its sender's indicator without a store round trip when they typed
   * nothing here. (An indicator started on another instance runs out after ttlMs, or stops with
   * its typing_stop or disconnect.)
   */
  clearStartedHere (userId: string, scopes: string[]): Promise<string[]>
  /** Pops expired indicators; each is returned by exactly one sweep on one instance. */
  sweep (): Promise<TypingEntry[]>
  onExpired (listener: (entry: TypingEntry) => void): () => void
  close (): Promise<void>
}

/** Typing indicators shared by all instances, expiring on their own after ttlMs. */
export function createTyping (options: TypingOptions): Typing {
  const { store, ttlMs, throttleMs, now = Date.now } = options
  const onError = options.onError ?? defaultErrorSink('typing')
  const sweepIntervalMs = options.sweepIntervalMs ?? Math.max(1, Math.ceil(ttlMs / 10))
  const listeners = new Set<(entry: TypingEntry) => void>()
  // `scope` NUL `userId` of each indicator this instance started and has not cleared since, to
  // when it runs out unless refreshed. An entry goes with a stop or clear of it on this instance
  // (a send, a leave, a disconnect), or at the first sweep after it ran out.
  const startedHere = new Map<string, number>()
  const hint = (scope: string, userId: string) => `${scope}\u0000${userId}`

  async function sweep (): Promise<TypingEntry[]> {
    const expired: TypingEntry[] = []
    for (;;) {
      const batch = await store.run(typingExpireScript, [typingKeys.due], [now(), POP_BATCH, typingKeys.user.pattern]) as string[]
      expired.push(...batch.map(parseMember))
      if (batch.length < POP_BATCH) return expired
    }
  }

  const sweeper = repeat(sweepIntervalMs, async () => {
    const at = now()
    for (const [key, until] of startedHere) if (until <= at) startedHere.delete(key)
    for (const entry of await sweep()) notify(listeners, entry, onError)
  }, onError)

  async function begin (scope: string, userId: string): Promise<{ broadcast: boolean }> {
    const at = now()
    startedHere.set(hint(scope, userId), at + ttlMs)
    const reply = await store.run(typingStartScript, [typingKeys.user(scope, userId), typingKeys.due],
      [at, ttlMs, throttleMs, typingKeys.member(scope, userId), at + ttlMs])
    return { broadcast: reply === 1 }
  }

  function start (): void
  function start (scope: string, userId: string): Promise<{ broadcast: boolean }>
  function start (scope?: string, userId?: string): void | Promise<{ broadcast: boolean }> {
    if (scope === undefined && userId === undefined) {
      sweeper.start()
      return
    }
    if (scope === undefined || userId === undefined) throw new TypeError('typing.start needs a scope and a user id')
    return begin(scope, userId)
  }

  async function clear (userId: string, scopes: string[]): Promise<string[]> {
    if (scopes.length === 0) return []
    for (const scope of scopes) startedHere.delete(hint(scope, userId))
    const stopped = await store.run(typingStopScript, [typingKeys.due, ...scopes.map(scope => typingKeys.user(scope, userId))],
      scopes.map(scope => typingKeys.member(scope, userId))) as string[]
    return stopped.map(member => parseMember(member).scope)
  }

  return {
    start,
    async stop (scope, userId) {
      return { wasTyping: (await clear(userId, [scope])).length === 1 }
    },
    clear,
    async clearStartedHere (userId, scopes) {
      const at = now()
      const started = scopes.filter(scope => (startedHere.get(hint(scope, userId)) ?? 0) > at)
      return started.length === 0 ? [] : await clear(userId, started)
    },
    sweep,
    onExpired (listener) {
      return subscribe(listeners, listener)
    },
    async close () {
      sweeper.stop()
    }
  }
}
