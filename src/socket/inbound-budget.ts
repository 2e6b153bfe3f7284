/**
 * The inbound budget of every socket (CONTRACT §10): a token bucket per socket over every event
 * it sends (valid, invalid or unknown), refilled lazily on arrival so that no socket has a timer,
 * plus one bucket per hashed IP shared by that IP's anonymous sockets (in-process: per instance).
 * The socket session (namespace.ts) asks it about each event; this module only counts.
 */
import type { Server } from 'socket.io'

export interface InboundBudgetOptions {
  /** Events per second a socket may send on average (WS_EVENT_RATE). */
  rate: number
  /** Events a socket may send at once (WS_EVENT_BURST). */
  burst: number
  /** A socket still over budget this long is disconnected (WS_ABUSE_SECONDS, in ms here). */
  abuseMs: number
  /** The anonymous sockets of one IP share this many sockets' budget (default 4). */
  perIpSockets?: number
}

interface Bucket { tokens: number, at: number }

/** A socket's run of dropped events: made on its first drop. */
interface Drops {
  /** When the current run of dropped events began; a second without a drop ends it. */
  overSince: number
  lastDropAt: number
  lastNoticeAt: number
}

/**
 * One socket's account. Its own bucket is made full on its first event (a bucket full at
 * connect and one made full at the first event admit exactly the same events), and its drops on
 * its first drop: an idle socket holds two empty fields (issue 17: idle memory per connection).
 */
export interface SocketBudget {
  own: Bucket | undefined
  /** The shared bucket of the socket's IP, for anonymous sockets. */
  ip: { key: string, bucket: Bucket } | undefined
  drops: Drops | undefined
}

/** What one event of a socket comes to. */
export type Verdict = 'admit' | 'drop' | 'drop-and-notify' | 'disconnect'

// A run of dropped events ends after a second without one; RATE_LIMITED is told at most once a second.
const QUIET_MS = 1_000
const NOTICE_MS = 1_000

const budgets = new WeakMap<Server, InboundBudget>()

/** Every namespace defined on `io` from now on applies `budget` to its sockets. */
export function limitInbound (io: Server, budget: InboundBudget): void {
  budgets.set(io, budget)
}

/** The budget of `io`, if one was set (a bare Socket.IO server in tests has none). */
export function inboundBudgetOf (io: Server): InboundBudget | undefined {
  return budgets.get(io)
}

export function createInboundBudget (options: InboundBudgetOptions) {
  const { rate, burst, abuseMs } = options
  const ipRate = rate * (options.perIpSockets ?? 4)
  const ipBurst = burst * (options.perIpSockets ?? 4)
  /** The buckets of IPs with an anonymous socket on this instance, and how many sockets each. */
  const byIp = new Map<string, { bucket: Bucket, sockets: number }>()

  function take (bucket: Bucket, now: number, perSecond: number, size: number): boolean {
    bucket.tokens = Math.min(size, bucket.tokens + (now - bucket.at) * perSecond / 1000)
    bucket.at = now
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  return {
    /** A full account for a socket that just connected; `ipKey` for an anonymous one. */
    open (now: number, ipKey?: string): SocketBudget {
      let ip: SocketBudget['ip']
      if (ipKey !== undefined) {
        let shared = byIp.get(ipKey)
        if (shared === undefined) byIp.set(ipKey, (shared = { bucket: { tokens: ipBurst, at: now }, sockets: 0 }))
        shared.sockets++
        ip = { key: ipKey, bucket: shared.bucket }
      }
      return { own: undefined, ip, drops: undefined }
    },

    /** The socket is gone: its IP's bucket goes with its last anonymous socket. */
    close (account: SocketBudget): void {
      if (account.ip === undefined) return
      const shared = byIp.get(account.ip.key)
      if (shared !== undefined && --shared.sockets <= 0) byIp.delete(account.ip.key)
    },

    /** Counts one event that arrived at `now` (ms, monotonic). */
    charge (account: SocketBudget, now: number): Verdict {
      // Both buckets pay for an admitted event; a refused one costs neither.
      const bucket = (account.own ??= { tokens: burst, at: now })
      const own = take(bucket, now, rate, burst)
      const ip = account.ip === undefined || !own || take(account.ip.bucket, now, ipRate, ipBurst)
      if (own && ip) return 'admit'
      if (own) bucket.tokens += 1
      const drops = (account.drops ??= { overSince: 0, lastDropAt: -Infinity, lastNoticeAt: -Infinity })
      if (now - drops.lastDropAt > QUIET_MS) drops.overSince = now
      drops.lastDropAt = now
      if (now - drops.overSince >= abuseMs) return 'disconnect'
      if (now - drops.lastNoticeAt < NOTICE_MS) return 'drop'
      drops.lastNoticeAt = now
      return 'drop-and-notify'
    },

    /** IPs with an anonymous socket here (for tests: nothing kept after they leave). */
    get trackedIps (): number {
      return byIp.size
    }
  }
}

export type InboundBudget = ReturnType<typeof createInboundBudget>
