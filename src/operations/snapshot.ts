import type { Namespace, Server } from 'socket.io'
import type { Registry } from 'prom-client'
import { namespacesOf } from '../socket/workarounds.js'

/**
 * What one instance tells the operations page, written to the store on every beat so that any
 * instance can answer for all of them. The counters are the `/metrics` series of that instance
 * (summed over their labels), so the page's rates and the Grafana panels agree.
 */
export interface InstanceSnapshot {
  instanceId: string
  /** Epoch ms when this snapshot was taken (the page's rates divide by differences of it). */
  at: number
  startedAt: number
  /** Sockets and Socket.IO rooms on this instance, by namespace label (as `/metrics`). */
  connections: Record<string, number>
  rooms: Record<string, number>
  /** Monotonic counters since this instance started; absent when metrics are off. */
  counters: Partial<Record<CounterName, number>>
  /** `roomwire_socket_event_duration_seconds` buckets: upper bound (`+Inf` last) → cumulative count. */
  latencyBuckets: Array<[string, number]>
}

/** The page's counters and the `/metrics` series each is the sum of. */
export const COUNTER_SERIES = {
  eventsReceived: 'roomwire_socket_events_received_total',
  eventsSent: 'roomwire_socket_events_sent_total',
  /** Received `send_message` and `message` events only (MESSAGE_EVENTS). */
  messagesReceived: 'roomwire_socket_events_received_total',
  /** Events refused with RATE_LIMITED (per-feature limits: chat messages, joins, passwords). */
  rateLimited: 'roomwire_socket_events_rate_limited_total',
  /** Events dropped unanswered because their socket was over its inbound budget (WS_EVENT_RATE). */
  overBudget: 'roomwire_socket_events_dropped_total',
  errors: 'roomwire_socket_errors_total',
  // Counted once the outbound bound of issue 16 lands; read whenever the registry has it.
  slowConsumers: 'roomwire_socket_slow_consumers_total'
} as const
export type CounterName = keyof typeof COUNTER_SERIES

const LATENCY_SERIES = 'roomwire_socket_event_duration_seconds'

/** Chat messages: seed 001/003 `send_message` and seed 004 `message`. */
export const MESSAGE_EVENTS = ['send_message', 'message']

type Labels = Record<string, unknown>

function perNamespace (io: Server, label: (name: string) => string, count: (nsp: Namespace) => number): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const nsp of namespacesOf(io)) {
    const name = label(nsp.name)
    counts[name] = (counts[name] ?? 0) + count(nsp)
  }
  return counts
}

async function sumOf (registry: Registry, name: string, keep: (labels: Labels) => boolean): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name)
  if (!metric) return undefined
  const { values } = await metric.get()
  return values.reduce((sum, v) => sum + (keep(v.labels) ? v.value : 0), 0)
}

async function latencyBuckets (registry: Registry): Promise<Array<[string, number]>> {
  const metric = registry.getSingleMetric(LATENCY_SERIES)
  if (!metric) return []
  const byBound = new Map<string, number>()
  for (const v of (await metric.get()).values) {
    if ((v as { metricName?: string }).metricName !== `${LATENCY_SERIES}_bucket`) continue
    const le = String(v.labels.le)
    byBound.set(le, (byBound.get(le) ?? 0) + v.value)
  }
  const bound = (le: string) => (le === '+Inf' ? Infinity : Number(le))
  return [...byBound].sort((a, b) => bound(a[0]) - bound(b[0]))
}

export interface SnapshotSource {
  io: Server
  /** The metrics plugin's registry; without it only connections and rooms are known. */
  registry?: Registry
  instanceId: string
  startedAt: number
  /** `/metrics`'s namespace label (public rooms together). */
  namespaceLabel: (name: string) => string
  now?: () => number
}

/** This instance's snapshot now. */
export async function takeSnapshot (source: SnapshotSource): Promise<InstanceSnapshot> {
  const { io, registry, instanceId, startedAt, namespaceLabel } = source
  const counters: InstanceSnapshot['counters'] = {}
  if (registry) {
    for (const [name, series] of Object.entries(COUNTER_SERIES) as Array<[CounterName, string]>) {
      const keep = name === 'messagesReceived' ? (labels: Labels) => MESSAGE_EVENTS.includes(String(labels.event)) : () => true
      const value = await sumOf(registry, series, keep)
      if (value !== undefined) counters[name] = value
    }
  }
  return {
    instanceId,
    at: (source.now ?? Date.now)(),
    startedAt,
    connections: perNamespace(io, namespaceLabel, (nsp) => nsp.sockets.size),
    rooms: perNamespace(io, namespaceLabel, (nsp) => {
      let rooms = 0
      for (const room of nsp.adapter.rooms.keys()) if (!nsp.sockets.has(room)) rooms++
      return rooms
    }),
    counters,
    latencyBuckets: registry ? await latencyBuckets(registry) : []
  }
}
