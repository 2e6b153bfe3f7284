import type { Figure, LatencyStep } from '../lib/types.js'
import type { Context } from './common.js'
import { idleMemory } from './sockets.js'
import { connectAndJoin, joinStorm } from './storms.js'
import { fanout, manyRooms } from './fanout.js'
import { sendAck } from './ack.js'
import { redisAdapter } from './redis.js'
import { shardedFanout } from './shard.js'
import { rest } from './rest.js'
import { bufferutilMissing, engines } from './engines.js'

export interface ScenarioOutput {
  details: string[]
  figures: Figure[]
  series?: Record<string, LatencyStep[]>
}

export interface Scenario {
  id: string
  title: string
  /** A reason to skip it in this environment, or false. */
  skip?: (ctx: Context) => string | false
  run: (ctx: Context) => Promise<ScenarioOutput>
}

export const scenarios: Scenario[] = [
  { id: 'memory', title: 'Idle memory per connection', run: idleMemory },
  { id: 'connect', title: 'Connect and disconnect storms', run: connectAndJoin },
  { id: 'storm', title: 'Join storm into one code room', run: joinStorm },
  { id: 'fanout', title: 'Fan-out in one room', run: fanout },
  { id: 'rooms', title: 'Many rooms of 10', run: manyRooms },
  { id: 'ack', title: '`send_message` ack round trip, message stored', run: sendAck },
  {
    id: 'redis',
    title: 'Fan-out through the Redis adapter',
    skip: (ctx) => !ctx.redisUrl || !ctx.databaseUrl ? 'REDIS_URL and DATABASE_URL must both be set (Redis adapter, PostgreSQL shared by the instances)' : false,
    run: redisAdapter
  },
  {
    id: 'shard',
    title: 'Sharded fan-out: rooms spread over 1, 2 and 4 instances',
    skip: (ctx) => !ctx.redisUrl || !ctx.databaseUrl ? 'REDIS_URL and DATABASE_URL must both be set (the adapters on Redis, PostgreSQL shared by the instances)' : false,
    run: shardedFanout
  },
  { id: 'rest', title: 'REST with autocannon', run: rest },
  { id: 'engines', title: 'WebSocket engines', skip: bufferutilMissing, run: engines }
]
