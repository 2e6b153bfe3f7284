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
  /** Counters since the instance started: eventsReceived, eventsSent, messagesReceived, rateLimited, overBudget, errors, slowConsumers. */
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
}, {
  examples: [{
    at: 1777919400000,
    instanceTtlMs: 15000,
    instances: [{
      instanceId: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
      alive: true,
      self: true,
      snapshot: {
        instanceId: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
        at: 1777919399000,
        startedAt: 1777915800000,
        connections: { '/': 12, '/sync': 3 },
        rooms: { '/': 4, '/sync': 1 },
        counters: { eventsReceived: 5120, eventsSent: 20480, messagesReceived: 830, rateLimited: 2, overBudget: 40, errors: 0, slowConsumers: 0 },
        latencyBuckets: [['0.005', 4800], ['0.05', 5100], ['+Inf', 5120]]
      }
    }],
    stats: { totalConnections: 1523, activeConnections: 15, onlineUsers: 11, totalRooms: 12, totalMessages: 40210 },
    publicRooms: [{ id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', name: 'Lobby', capacity: 50, currentOccupancy: 3 }]
  }]
})

export const operationsRouteSchemas = {
  overview: route('operations', 'Instances, their liveness and live numbers, rooms and occupancy (the /admin page)', {
    response: { 200: Overview, 401: ErrorResponse, 403: ErrorResponse }
  }, adminAuth)
}

export type OverviewView = Static<typeof Overview>
