/**
 * The one sharded pub/sub connection of a server (on a Redis Cluster, ioredis's sharded
 * subscribers: one connection per master, each SSUBSCRIBE sent to the master owning the channel's
 * slot), shared by every namespace's adapter: a channel is subscribed while some adapter wants
 * it, and each message is handed to the adapters that do.
 */
import type { RedisClient } from './restore.js'

export type ChannelHandler = (message: Buffer, channel: string) => void

export interface FanoutStats {
  /** Messages received from Redis on room channels and on namespace channels. */
  received: { room: number, namespace: number }
  /** Messages this instance published. */
  published: number
  /** Kept broadcasts read back from a room's log: published while this instance's subscription was down. */
  filled: number
}

/**
 * One subscribed channel: its handler (a Set only once a second adapter wants the channel: a
 * user's own room is one channel per connected user, so the common case holds one function),
 * and the SSUBSCRIBE's promise until Redis answered it.
 */
interface Channel { handlers: ChannelHandler | Set<ChannelHandler>, ready: Promise<void> }

const SUBSCRIBED = Promise.resolve()
const RETRIES_BEFORE_ANSWER = 4
/** 25, 50, 100… ms, at most 1 s, between attempts. */
const retryDelayMs = (failures: number): number => Math.min(1000, 25 * 2 ** failures)

export function createSubscriptions (subscriber: RedisClient, onError: (err: unknown) => void) {
  const channels = new Map<string, Channel>()
  const onMessage = (raw: Buffer, message: Buffer) => {
    const channel = raw.toString()
    const entry = channels.get(channel)
    if (entry === undefined) return
    if (typeof entry.handlers === 'function') entry.handlers(message, channel)
    else for (const handler of entry.handlers) handler(message, channel)
  }
  subscriber.on('smessageBuffer', onMessage)

  /**
   * SSUBSCRIBE, sent again after a failure (a cluster still settling its slots answers MOVED or
   * CLUSTERDOWN; a connection drops) for as long as the channel is wanted: an entry whose
   * subscription failed once used to stay, believed subscribed, and the instance never heard
   * the room again. Resolves once Redis confirmed it, or after RETRIES_BEFORE_ANSWER failures
   * (a join must not wait out an outage; the retries go on).
   */
  function subscribe (channel: string, entry: Channel): Promise<void> {
    return new Promise((resolve) => {
      const attempt = (failures: number) => {
        subscriber.ssubscribe(channel).then(() => {
          // Once answered, the entry keeps the one shared resolved promise, not its own.
          entry.ready = SUBSCRIBED
          resolve()
        }, (err: unknown) => {
          onError(err)
          if (failures + 1 >= RETRIES_BEFORE_ANSWER) resolve()
          if (channels.get(channel) !== entry) return resolve()
          setTimeout(() => { if (channels.get(channel) === entry) attempt(failures + 1) }, retryDelayMs(failures)).unref()
        })
      }
      attempt(0)
    })
  }

  return {
    /** Resolves once Redis confirmed the subscription (never rejects: a failure is logged). */
    add (channel: string, handler: ChannelHandler): Promise<void> {
      const entry = channels.get(channel)
      if (entry !== undefined) {
        if (typeof entry.handlers === 'function') {
          if (entry.handlers !== handler) entry.handlers = new Set([entry.handlers, handler])
        } else {
          entry.handlers.add(handler)
        }
        return entry.ready
      }
      const created: Channel = { handlers: handler, ready: SUBSCRIBED }
      created.ready = subscribe(channel, created)
      channels.set(channel, created)
      return created.ready
    },
    remove (channel: string, handler: ChannelHandler): void {
      const entry = channels.get(channel)
      if (entry === undefined) return
      if (typeof entry.handlers === 'function') {
        if (entry.handlers !== handler) return
      } else {
        if (!entry.handlers.delete(handler)) return
        if (entry.handlers.size > 0) {
          if (entry.handlers.size === 1) entry.handlers = entry.handlers.values().next().value as ChannelHandler
          return
        }
      }
      channels.delete(channel)
      subscriber.sunsubscribe(channel).catch(onError)
    },
    /** How many channels are subscribed (tests: nothing is left behind). */
    get size (): number { return channels.size },
    close (): void {
      subscriber.off('smessageBuffer', onMessage)
      channels.clear()
    }
  }
}

export type Subscriptions = ReturnType<typeof createSubscriptions>
