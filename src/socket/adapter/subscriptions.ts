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
      // Once answered, the entry keeps the one shared resolved promise, not its own.
      created.ready = subscriber.ssubscribe(channel).then(() => { created.ready = SUBSCRIBED }, onError)
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
