import Type, { type Static } from 'typebox'
import { adminAuth, ErrorResponse, route } from './common.js'
import { AdminStats } from './admin.js'

/** The operations page's one read (GET /api/ops/overview): every instance and its numbers. */

const Counts = Type.Record(Type.String(), Type.Number())

export const InstanceSnapshot = Type.Object({
  instanceId: Type.String(),
  at: Type.Number(),
  startedAt: Type.Number(),
  connections: Counts,
  rooms: Counts,
  /** Counters since the instance started: eventsReceived, eventsSent, messagesReceived, rateLimited, errors, slowConsumers. */
  counters: Counts,
  /** Cumulative event-latency buckets as [upper bound in seconds or '+Inf', count]. */
  // [bound, count] pairs; a pair as a two-item array: OpenAPI 3.0 has no tuples.
  latencyBuckets: Type.Array(Type.Array(Type.Union([Type.String(), Type.Number()]), { minItems: 2, maxItems: 2 }))
})

export const InstanceView = Type.Object({
  instanceId: Type.String(),
  /** Its liveness key is there (it beat within INSTANCE_TTL_MS). */
  alive: Type.Boolean(),
  /** The instance that answered. */
  self: Type.Boolean(),
  snapshot: Type.Union([InstanceSnapshot, Type.Null()])
})

export const Overview = Type.Object({
  at: Type.Number(),
  instanceTtlMs: Type.Integer(),
  instances: Type.Array(InstanceView),
  stats: AdminStats,
  publicRooms: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), capacity: Type.Integer(), currentOccupancy: Type.Integer() }))
})

export const operationsRouteSchemas = {
  overview: route('operations', 'Instances, their liveness and live numbers, rooms and occupancy (the /admin page)', {
    response: { 200: Overview, 401: ErrorResponse, 403: ErrorResponse }
  }, adminAuth)
}

export type OverviewView = Static<typeof Overview>
