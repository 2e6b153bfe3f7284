import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Namespace } from 'socket.io'
import { namespaceEvents } from '../src/contract/events.js'
import { observeEvents, type EventProbe } from '../src/socket/event-table.js'
import { fanoutStatsOf } from '../src/socket/adapter/index.js'
import { namespacesOf } from '../src/socket/workarounds.js'
import { probe } from '../src/services/timer.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry (several apps in one process never share one). */
    metricsRegistry: Registry
  }
}

export interface MetricsPluginOptions {
  /** How long a scrape waits for the SQL and store pings (ms). */
  healthTimeoutMs?: number
}

const PUBLIC_ROOMS = '/public-room/*'
/** Our namespaces; any other (a host app's own) is labelled `other`. */
const NAMESPACES = ['/', '/sync', PUBLIC_ROOMS] as const

/** A namespace's label: public rooms are one series, not one per room id. */
export function namespaceLabel (name: string): string {
  if (name.startsWith('/public-room/')) return PUBLIC_ROOMS
  return name === '/' || name === '/sync' ? name : 'other'
}

/** Events the server may emit, per namespace label; any other name is counted as `other`. */
const outgoing: Record<string, string[]> = {
  '/': Object.keys(namespaceEvents.chat.server),
  '/sync': Object.keys(namespaceEvents.sync.server),
  [PUBLIC_ROOMS]: Object.keys(namespaceEvents.publicRoom.server),
  other: []
}

// Process metrics (CPU, memory, event loop, GC) describe the process, not an app: collected once,
// in a registry of their own, and appended to every app's scrape.
let processRegistry: Registry | undefined
function processMetrics (): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

interface AdapterLike {
  nsp: Namespace
  broadcast: (packet: { data?: unknown[] }, opts: unknown) => unknown
  broadcastWithAck: (packet: { data?: unknown[] }, ...rest: unknown[]) => unknown
}

/**
 * Prometheus metrics at `/metrics`. Socket events are counted where they pass through one place:
 * incoming ones in the event tables' dispatch, outgoing ones in each namespace adapter's
 * `broadcast` (every emit goes through it with connection state recovery on: once per emit,
 * whatever the number of recipients). Connections, rooms and health are read at scrape time.
 */
export default fp<MetricsPluginOptions>(async (app, opts) => {
  const { io } = app
  const healthTimeoutMs = opts.healthTimeoutMs ?? 1_000
  const registry = new Registry()
  const registers = [registry]

  // Counted on every socket event, in and out: a tally of our own per series, added to the
  // counter when it is read (a scrape, or `get()`). prom-client's `inc` hashes and validates the
  // labels on each call, bound or not (issue 23).
  const receivedTallies: Tally[] = []
  const sentTallies: Tally[] = []
  const received = new Counter({
    name: 'roomwire_socket_events_received_total',
    help: 'Socket events received from clients, by namespace and event (only events a namespace handles)',
    labelNames: ['namespace', 'event'] as const,
    registers,
    collect () { flush(this, receivedTallies) }
  })
  const sent = new Counter({
    name: 'roomwire_socket_events_sent_total',
    help: 'Socket events emitted by the server, once per emit or broadcast (not per recipient); names outside the contract are `other`',
    labelNames: ['namespace', 'event'] as const,
    registers,
    collect () { flush(this, sentTallies) }
  })
  const errors = new Counter({
    name: 'roomwire_socket_errors_total',
    help: 'Socket events answered with an error, by error code',
    labelNames: ['namespace', 'code'] as const,
    registers
  })
  const rateLimited = new Counter({
    name: 'roomwire_socket_events_rate_limited_total',
    help: 'Socket events refused with RATE_LIMITED',
    labelNames: ['namespace', 'event'] as const,
    registers
  })
  // Issue 16: what the inbound budget drops, and the connections dropped as slow consumers.
  const dropped = new Counter({
    name: 'roomwire_socket_events_dropped_total',
    help: 'Socket events dropped unanswered because their socket was over its inbound budget (WS_EVENT_RATE, WS_EVENT_BURST)',
    labelNames: ['namespace'] as const,
    registers
  })
  const slowConsumers = new Counter({
    name: 'roomwire_socket_slow_consumers_total',
    help: 'Connections dropped because more than WS_MAX_BUFFERED_BYTES of outgoing data waited for them',
    registers
  })
  const duration = new Histogram({
    name: 'roomwire_socket_event_duration_seconds',
    help: 'From the arrival of a socket event to its ack: validation, rate limit and handler',
    labelNames: ['namespace', 'event'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers
  })

  const namespaces = (): Namespace[] => namespacesOf(io)
  /** A gauge by namespace label, summed over the namespaces (public rooms together) at scrape time. */
  function perNamespace (name: string, help: string, count: (nsp: Namespace) => number): void {
    new Gauge({ // eslint-disable-line no-new
      name,
      help,
      labelNames: ['namespace'] as const,
      registers,
      collect () {
        const counts = new Map<string, number>(NAMESPACES.map(n => [n, 0]))
        for (const nsp of namespaces()) {
          const label = namespaceLabel(nsp.name)
          counts.set(label, (counts.get(label) ?? 0) + count(nsp))
        }
        this.reset()
        for (const [namespace, value] of counts) this.set({ namespace }, value)
      }
    })
  }
  perNamespace('roomwire_socket_connections', 'Sockets connected to this instance, by namespace (public rooms together)',
    (nsp) => nsp.sockets.size)
  perNamespace('roomwire_socket_rooms', "Socket.IO rooms with a socket on this instance, by namespace (each socket's own room not counted)",
    (nsp) => {
      let rooms = 0
      for (const room of nsp.adapter.rooms.keys()) if (!nsp.sockets.has(room)) rooms++
      return rooms
    })
  new Gauge({ // eslint-disable-line no-new
    name: 'roomwire_database_up',
    help: `Whether the SQL database answered a ping within ${healthTimeoutMs} ms at scrape time (1) or not (0)`,
    labelNames: ['kind'] as const,
    registers,
    async collect () {
      this.reset()
      this.set({ kind: app.sql.kind }, (await probe(() => app.sql.ping(), healthTimeoutMs)) === null ? 1 : 0)
    }
  })
  new Gauge({ // eslint-disable-line no-new
    name: 'roomwire_store_up',
    help: `Whether the store (Redis, or the in-process one) answered a ping within ${healthTimeoutMs} ms at scrape time (1) or not (0)`,
    labelNames: ['kind'] as const,
    registers,
    async collect () {
      this.reset()
      this.set({ kind: app.store.kind }, (await probe(() => app.store.ping(), healthTimeoutMs)) === null ? 1 : 0)
    }
  })

  // Issue 18: what this instance receives through Redis scales with the rooms it serves (sharded fan-out).
  const fanoutSeen = { room: 0, namespace: 0, published: 0, filled: 0 }
  /** A counter that follows one of the adapter's tallies (they only grow). */
  const fanoutCounter = (name: string, help: string, tally: 'published' | 'filled') => new Counter({
    name,
    help,
    registers,
    collect () {
      const value = fanoutStatsOf(io)?.[tally] ?? fanoutSeen[tally]
      this.inc(value - fanoutSeen[tally])
      fanoutSeen[tally] = value
    }
  })
  fanoutCounter('roomwire_adapter_messages_published_total',
    'Messages this instance published to Redis through the Socket.IO adapter (broadcasts and requests between instances); 0 without Redis', 'published')
  fanoutCounter('roomwire_adapter_messages_filled_total',
    "Kept broadcasts this instance read back from a room's recovery log because its subscription missed them (published while it reconnected to Redis, or during a failover), written to the room's sockets in the log's order; 0 without Redis", 'filled')
  new Counter({ // eslint-disable-line no-new
    name: 'roomwire_adapter_messages_received_total',
    help: "Published messages this instance received from Redis through the Socket.IO adapter: `room` on the channels of rooms with local members, `namespace` on the namespaces' own channels (broadcasts to everyone or to several rooms, requests between instances); 0 without Redis",
    labelNames: ['channel'] as const,
    registers,
    collect () {
      const stats = fanoutStatsOf(io)?.received ?? fanoutSeen
      for (const channel of ['room', 'namespace'] as const) {
        this.inc({ channel }, stats[channel] - fanoutSeen[channel])
        fanoutSeen[channel] = stats[channel]
      }
    }
  })

  // Incoming: one probe per namespace and event, made when the first socket binds.
  observeEvents(io, {
    probe (namespace: string, event: string): EventProbe {
      const label = namespaceLabel(namespace)
      const counted = tally(received, receivedTallies, label, event)
      const limited = rateLimited.labels(label, event)
      const timed = duration.labels(label, event)
      limited.inc(0)
      return {
        received: () => { counted.n++ },
        rateLimited: () => { limited.inc() },
        failed: (code) => { errors.labels(label, code).inc() },
        handled: (seconds) => { timed.observe(seconds) }
      }
    },
    dropped: (namespace) => { dropped.labels(namespaceLabel(namespace)).inc() },
    slowConsumer: () => { slowConsumers.inc() }
  })

  // Outgoing: each namespace's adapter counts the emits that start on this instance.
  const sentBy = new Map<string, Map<string, Tally>>()
  function sentCounters (label: string): Map<string, Tally> {
    let counters = sentBy.get(label)
    if (!counters) {
      counters = new Map([...outgoing[label], 'other'].map(event => [event, tally(sent, sentTallies, label, event, false)]))
      sentBy.set(label, counters)
    }
    return counters
  }
  const wrapped = new WeakSet<object>()
  function countEmits (nsp: Namespace): void {
    const adapter = nsp.adapter as unknown as AdapterLike
    if (wrapped.has(adapter)) return
    wrapped.add(adapter)
    const counters = sentCounters(namespaceLabel(nsp.name))
    const other = counters.get('other')!
    const count = (packet: { data?: unknown[] }) => {
      const event = packet.data?.[0]
      ;((typeof event === 'string' ? counters.get(event) : undefined) ?? other).n++
    }
    const { broadcast, broadcastWithAck } = adapter
    adapter.broadcast = function (packet, options) {
      count(packet)
      return broadcast.call(this, packet, options)
    }
    adapter.broadcastWithAck = function (packet, ...rest) {
      count(packet)
      return broadcastWithAck.call(this, packet, ...rest)
    }
  }
  for (const nsp of namespaces()) countEmits(nsp)
  // Every namespace made later, public-room children included, is announced on the main one.
  io.on('new_namespace', (nsp) => { countEmits(nsp) })

  app.decorate('metricsRegistry', registry)

  app.get('/metrics', {
    schema: { tags: ['docs'], summary: 'Prometheus metrics (text exposition format)' }
  }, async (_request, reply) => {
    const [own, process] = await Promise.all([registry.metrics(), processMetrics().metrics()])
    return reply.type(registry.contentType).send(`${own}\n${process}`)
  })
}, { name: 'metrics', dependencies: ['config', 'db', 'store', 'socket-io'] })

/** Events of one series counted since the counter was last read. */
interface Tally { labels: { namespace: string, event: string }, n: number }

/** A tally of `counter`'s series (namespace, event), kept in `tallies`; `zero`: the series shows 0 until counted. */
function tally (counter: Counter<'namespace' | 'event'>, tallies: Tally[], namespace: string, event: string, zero = true): Tally {
  const t: Tally = { labels: { namespace, event }, n: 0 }
  tallies.push(t)
  if (zero) counter.labels(namespace, event).inc(0)
  return t
}

/** Adds what the tallies counted to the counter (from its `collect`, before it is read). */
function flush (counter: Counter<'namespace' | 'event'>, tallies: Tally[]): void {
  for (const t of tallies) {
    if (t.n === 0) continue
    counter.inc(t.labels, t.n)
    t.n = 0
  }
}
