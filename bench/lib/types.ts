import type { Spread } from './spread.js'

/** The processes a scenario can run as its server. */
export type ServerKind = 'roomwire' | 'bare-socketio' | 'bare-seed003' | 'raw-ws' | 'bare-fastify'

/** How a load client speaks to a server: roomwire and bare Socket.IO share the events. */
export type Protocol = 'socketio' | 'ws'

export type Mode = 'quick' | 'full' | 'smoke'

export interface MemoryReport { heapUsed: number, rss: number, external: number, arrayBuffers: number }

/** One socket a client opens: its token (roomwire), the rooms it joins, what it does. */
export interface SocketSpec {
  token?: string
  rooms: string[]
  /** Publishes to rooms[0] (and does not record what it receives). */
  publisher?: boolean
  /** Records latencies of what it receives. */
  record?: boolean
  /**
   * Which server of an interleaved run the socket belongs to: `publish` and `close` can name
   * one group, so that two servers stay connected and are measured in turns (A B A B).
   */
  group?: string
}

export interface ConnectArgs {
  protocol: Protocol
  url: string
  sockets: SocketSpec[]
  /** Sockets connecting at once. */
  concurrency: number
  /** `join_room` + code room (seed 003) or `join_group` (seed 001). */
  vocabulary: 'code' | 'group'
}

export interface ConnectResult { opened: number, startedAt: number, endedAt: number, failures: number, firstError?: string }

export interface PublishArgs {
  /** Messages per second per publisher socket. */
  rate: number
  durationMs: number
  /** Await each ack and record its round trip (the `send_message` scenario). */
  ack?: boolean
  content?: number
  /** Only the publishers of this group (an interleaved run). */
  group?: string
}

export interface PublishResult { sent: number, acked: number, errors: number, firstError?: string, ackHistogram?: string }

export interface CollectResult {
  received: number
  /** Encoded (compressed base64) hdr histogram of latencies in µs. */
  histogram: string
  firstAt: number
  lastAt: number
  serverErrors: number
  firstServerError?: string
}

/** A figure for roomwire (or the variant under test) with its baselines. */
export interface Figure {
  key: string
  label: string
  unit: string
  /** Which direction is good: the ratio is subject / baseline either way. */
  better: 'higher' | 'lower'
  subject: { name: string, value: number | null, values?: number[] }
  /** `spread`: the ratio over interleaved repetitions (ratio is then its median). */
  baselines: Array<{ name: string, value: number | null, ratio: number | null, values?: number[], spread?: Spread }>
  note?: string
}

export interface LatencyStep {
  rate: number
  sent: number
  expected: number
  received: number
  deliveriesPerSecond: number
  deliveriesPerServerCpuSecond: number | null
  p50Ms: number
  p99Ms: number
  maxMs: number
  serverCpuSeconds: number
  clientCpuSeconds: number
}

export interface ScenarioResult {
  id: string
  title: string
  status: 'ok' | 'skipped' | 'failed'
  reason?: string
  /** How it was measured (sizes, which database), printed with the table. */
  details: string[]
  figures: Figure[]
  /** Per target: the stepped fan-out, for the chart. */
  series?: Record<string, LatencyStep[]>
  clientCpuSeconds?: Record<string, number>
  /** --cpu-prof: top self-time functions of roomwire's servers in this scenario. */
  profile?: { files: number, totalMs: number, top: Array<{ fn: string, where: string, selfMs: number, percent: number }> } | null
  elapsedSeconds: number
}
