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
}

export function createSubscriptions (subscriber: RedisClient, onError: (err: unknown) => void) {
  const channels = new Map<string, { handlers: Set<ChannelHandler>, ready: Promise<void> }>()
  const onMessage = (raw: Buffer, message: Buffer) => {
    const channel = raw.toString()
    const entry = channels.get(channel)
    if (entry === undefined) return
    for (const handler of entry.handlers) handler(message, channel)
  }
  subscriber.on('smessageBuffer', onMessage)

  return {
    /** Resolves once Redis confirmed the subscription (never rejects: a failure is logged). */
    add (channel: string, handler: ChannelHandler): Promise<void> {
      const entry = channels.get(channel)
      if (entry !== undefined) {
        entry.handlers.add(handler)
        return entry.ready
      }
      const ready = subscriber.ssubscribe(channel).then(() => {}, onError)
      channels.set(channel, { handlers: new Set([handler]), ready })
      return ready
    },
    remove (channel: string, handler: ChannelHandler): void {
      const entry = channels.get(channel)
      if (entry === undefined || !entry.handlers.delete(handler) || entry.handlers.size > 0) return
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
