import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import Type, { type Static, type TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import { clusterStatePrefix } from './store/keys.js'

const Ms = (d: number) => Type.Integer({ minimum: 1, default: d })
const Count = (d: number) => Type.Integer({ minimum: 1, default: d })

/**
 * Every setting: its environment variable and its schema (with the default). The same names,
 * camel-cased, are the plugin options. Keep this table, `.env.example` and the README in step.
 */
const settings = {
  port: ['PORT', Type.Integer({ minimum: 0, maximum: 65535, default: 3000 })],
  host: ['HOST', Type.String({ minLength: 1, default: '127.0.0.1' })],
  databaseUrl: ['DATABASE_URL', Type.Optional(Type.String({ pattern: '^postgres(ql)?://' }))],
  dataDir: ['DATA_DIR', Type.String({ minLength: 1, default: './data' })],
  redisUrl: ['REDIS_URL', Type.Optional(Type.String({ pattern: '^rediss?://' }))],
  redisKeyPrefix: ['REDIS_KEY_PREFIX', Type.String({ default: '' })],
  // Issue 18: a Redis Cluster (`host:port,host:port,…`) instead of REDIS_URL
  redisClusterNodes: ['REDIS_CLUSTER_NODES', Type.Optional(Type.String({ minLength: 1 }))],
  jwtSecret: ['JWT_SECRET', Type.Optional(Type.String({ minLength: 16 }))],
  jwtExpiresIn: ['JWT_EXPIRES_IN', Type.String({ pattern: '^[0-9]+(ms|s|m|h|d)?$', default: '1h' })],
  ipHashSecret: ['IP_HASH_SECRET', Type.Optional(Type.String({ minLength: 16 }))],
  adminApiKey: ['ADMIN_API_KEY', Type.Optional(Type.String({ minLength: 16 }))],
  corsOrigin: ['CORS_ORIGIN', Type.String({ minLength: 1, default: '*' })],
  // 'true', 'false', or a comma-separated list of trusted proxy addresses/CIDRs ('loopback' too)
  trustProxy: ['TRUST_PROXY', Type.String({ pattern: '^(true|false|[0-9A-Za-z.:/, ]+)$', default: 'false' })],
  wsPingInterval: ['WS_PING_INTERVAL', Ms(25_000)],
  wsPingTimeout: ['WS_PING_TIMEOUT', Ms(20_000)],
  wsMaxPayload: ['WS_MAX_PAYLOAD', Type.Integer({ minimum: 1024, default: 65_536 })],
  publicMaxConnectionsPerIp: ['PUBLIC_MAX_CONNECTIONS_PER_IP', Count(2)],
  publicPingIdleMs: ['PUBLIC_PING_IDLE_MS', Ms(300_000)],
  publicPingMaxMissed: ['PUBLIC_PING_MAX_MISSED', Count(3)],
  syncReconnectGraceMs: ['SYNC_RECONNECT_GRACE_MS', Ms(30_000)],
  syncRoomTtlMs: ['SYNC_ROOM_TTL_MS', Ms(86_400_000)],
  chatMessagesPerMinute: ['CHAT_MESSAGES_PER_MINUTE', Count(30)],
  chatMaxLength: ['CHAT_MAX_LENGTH', Count(5000)],
  typingTtlMs: ['TYPING_TTL_MS', Ms(10_000)],
  instanceTtlMs: ['INSTANCE_TTL_MS', Ms(15_000)],
  // issue 18: messages replayed on a join with `sinceSeq`
  historyReplayMax: ['HISTORY_REPLAY_MAX', Count(100)],
  // issue 21: reactions (distinct emoji per message; coalesced `reactions_updated`)
  chatReactionsMax: ['CHAT_REACTIONS_MAX', Count(20)],
  chatReactionsCoalesceMs: ['CHAT_REACTIONS_COALESCE_MS', Ms(100)],
  // issue 17: presence that scales (watchlists, coalesced member lists)
  presenceWatchlistMax: ['PRESENCE_WATCHLIST_MAX', Count(100)],
  presenceCoalesceMs: ['PRESENCE_COALESCE_MS', Ms(100)],
  // Issue 16 (faults): every Redis command of every client (store, adapter, limiter) gives up after this
  redisCommandTimeoutMs: ['REDIS_COMMAND_TIMEOUT_MS', Ms(2_000)],
  // Issue 18: how often every Redis Cluster client reads the slot map when no command met a MOVED
  redisClusterSlotsRefreshMs: ['REDIS_CLUSTER_SLOTS_REFRESH_MS', Ms(5_000)],
  logLevel: ['LOG_LEVEL', Type.Union([
    Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'),
    Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')
  ], { default: 'info' })],
  // Not in the contract's table, but tests need them in milliseconds.
  typingThrottleMs: ['TYPING_THROTTLE_MS', Ms(2_000)],
  syncPasswordAttempts: ['SYNC_PASSWORD_ATTEMPTS', Count(5)],
  syncPasswordWindowMs: ['SYNC_PASSWORD_WINDOW_MS', Ms(900_000)],
  publicSlotStaleMs: ['PUBLIC_SLOT_STALE_MS', Ms(3_600_000)],
  restRateLimitMax: ['REST_RATE_LIMIT_MAX', Count(300)],
  authRateLimitMax: ['AUTH_RATE_LIMIT_MAX', Count(20)],
  // API docs (/docs, /docs/json, /asyncapi.json) and Prometheus metrics (/metrics)
  docsEnabled: ['DOCS_ENABLED', Type.Boolean({ default: true })],
  metricsEnabled: ['METRICS_ENABLED', Type.Boolean({ default: true })],
  // The demo page at `/`: unset → on for the standalone app (buildApp), off for an embedding host
  demoEnabled: ['DEMO_ENABLED', Type.Optional(Type.Boolean())],
  // Webhooks (docs/webhooks.md): endpoints from env (comma-separated), their secret and event filter
  webhookUrls: ['WEBHOOK_URLS', Type.String({ default: '' })],
  webhookSecret: ['WEBHOOK_SECRET', Type.Optional(Type.String({ pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$' }))],
  webhookEvents: ['WEBHOOK_EVENTS', Type.String({ default: '' })],
  webhookBatchIntervalMs: ['WEBHOOK_BATCH_INTERVAL_MS', Ms(1_000)],
  webhookLeaseTtlMs: ['WEBHOOK_LEASE_TTL_MS', Ms(10_000)],
  webhookTimeoutMs: ['WEBHOOK_TIMEOUT_MS', Ms(10_000)],
  webhookRetryBaseMs: ['WEBHOOK_RETRY_BASE_MS', Ms(1_000)],
  webhookRetryMaxMs: ['WEBHOOK_RETRY_MAX_MS', Ms(300_000)],
  webhookMaxAttempts: ['WEBHOOK_MAX_ATTEMPTS', Count(10)],
  webhookQueueBound: ['WEBHOOK_QUEUE_BOUND', Count(10_000)],
  // Issue 16 (REST and stored data): the largest channel metadata, as JSON bytes
  channelMetadataMaxBytes: ['CHANNEL_METADATA_MAX_BYTES', Count(4096)],
  // Issue 16, sockets (CONTRACT §10, §11): inbound budget, slow consumers, drain
  wsEventRate: ['WS_EVENT_RATE', Count(50)],
  wsEventBurst: ['WS_EVENT_BURST', Count(100)],
  wsAbuseSeconds: ['WS_ABUSE_SECONDS', Type.Number({ exclusiveMinimum: 0, default: 5 })],
  wsMaxBufferedBytes: ['WS_MAX_BUFFERED_BYTES', Type.Integer({ minimum: 1024, default: 1_048_576 })],
  shutdownDrainMs: ['SHUTDOWN_DRAIN_MS', Type.Integer({ minimum: 0, default: 10_000 })],
  // Not in the contract's table: what connection state recovery keeps per namespace (the Redis stream: packets)
  recoveryMaxPackets: ['RECOVERY_MAX_PACKETS', Count(10_000)],
  recoveryMaxBytes: ['RECOVERY_MAX_BYTES', Count(16_777_216)]
} as const satisfies Record<string, readonly [string, TSchema]>

type Settings = typeof settings
type Key = keyof Settings

const ConfigSchema = Type.Object(
  Object.fromEntries(Object.entries(settings).map(([k, [, s]]) => [k, s])) as { [K in Key]: Settings[K][1] },
  { additionalProperties: false }
)
const checkConfig = Compile(ConfigSchema)

export type ConfigInput = Partial<{ [K in Key]: Static<Settings[K][1]> | undefined }>

export interface Config extends Required<Omit<Static<typeof ConfigSchema>, 'databaseUrl' | 'redisUrl' | 'redisClusterNodes' | 'adminApiKey' | 'demoEnabled' | 'webhookSecret'>> {
  databaseUrl?: string
  webhookSecret?: string
  redisUrl?: string
  /** REDIS_CLUSTER_NODES as given (checked: parseClusterNodes reads it). */
  redisClusterNodes?: string
  adminApiKey?: string
  /** Unset: the demo page follows whether the app is standalone. */
  demoEnabled?: boolean
  /** Secrets that were not configured and were generated for this process. */
  generatedSecrets: string[]
}

export class ConfigError extends Error {
  constructor (readonly variable: string, detail: string) {
    super(`Invalid configuration: ${variable} ${detail}`)
    this.name = 'ConfigError'
  }
}

/** Reads settings from `env`, lets `overrides` (plugin options) win, and validates them all. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env, overrides: ConfigInput = {}): Config {
  const raw: Record<string, unknown> = {}
  for (const [key, [variable]] of Object.entries(settings)) {
    const fromEnv = env[variable]
    if (fromEnv !== undefined && fromEnv !== '') raw[key] = fromEnv
    const fromOptions = (overrides as Record<string, unknown>)[key]
    if (fromOptions !== undefined) raw[key] = fromOptions
  }
  const value = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw)) as Record<string, unknown>
  const errors = [...checkConfig.Errors(value)]
  if (errors.length > 0) {
    const first = errors.find(e => e.instancePath !== '') ?? errors[0]
    const key = first.instancePath.split('/')[1] as Key | undefined
    const variable = key && key in settings ? settings[key][0] : '(options)'
    const got = key ? JSON.stringify(raw[key]) : ''
    const expected = key && key in settings ? allowedValues(settings[key][1]) : undefined
    throw new ConfigError(variable, `${expected ?? first.message}${got ? ` (got ${got})` : ''}`)
  }
  if (typeof value.redisUrl === 'string') checkRedisDatabase(value.redisUrl)
  if (typeof value.redisClusterNodes === 'string') checkCluster(value.redisClusterNodes, value.redisUrl, value.redisKeyPrefix as string)
  const generatedSecrets: string[] = []
  for (const key of ['jwtSecret', 'ipHashSecret'] as const) {
    if (value[key] === undefined) {
      value[key] = randomBytes(32).toString('hex')
      generatedSecrets.push(settings[key][0])
    }
  }
  return { ...(value as unknown as Omit<Config, 'generatedSecrets'>), generatedSecrets }
}

/** "must be one of …" for a setting with a closed set of values; undefined for the others. */
function allowedValues (schema: TSchema): string | undefined {
  const options = (schema as { anyOf?: Array<{ const?: unknown }> }).anyOf
  if (options?.every(option => typeof option.const === 'string')) {
    return `must be one of ${options.map(option => option.const).join(', ')}`
  }
  if ((schema as { type?: string }).type === 'boolean') return 'must be true or false'
  return undefined
}

/**
 * REDIS_URL's path is the database number. ioredis selects it on connect, but a refused SELECT
 * (out of range) only emits an error and leaves the connection on db 0, so a bad one is refused
 * here (not a number) or when the store connects (out of the server's range).
 */
function checkRedisDatabase (url: string): void {
  let path: string
  try {
    path = new URL(url).pathname
  } catch {
    throw new ConfigError('REDIS_URL', `is not a URL (got ${JSON.stringify(url.replace(/\/\/[^@]*@/, '//***@'))})`)
  }
  if (!/^\/?([0-9]+)?$/.test(path)) {
    throw new ConfigError('REDIS_URL', `must end with a database number or nothing, as in redis://host:6379/0 (got path ${JSON.stringify(path)})`)
  }
}

export interface ClusterNode { host: string, port: number }

/** REDIS_CLUSTER_NODES (`host:port,host:port,…`, IPv6 hosts in brackets) as seed nodes; throws a ConfigError saying which entry is wrong. */
export function parseClusterNodes (value: string): ClusterNode[] {
  const entries = value.split(',').map(entry => entry.trim())
  return entries.map((entry) => {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$/.exec(entry)
    const port = Number(match?.[2])
    if (match === null || port < 1 || port > 65535) {
      throw new ConfigError('REDIS_CLUSTER_NODES', `must be host:port,host:port,… (got ${JSON.stringify(value)}: ${JSON.stringify(entry)} is not host:port)`)
    }
    return { host: match[1].replace(/^\[|\]$/g, ''), port }
  })
}

/** REDIS_CLUSTER_NODES: well formed, not beside REDIS_URL, and a REDIS_KEY_PREFIX the state keys can be tagged under. */
function checkCluster (nodes: string, redisUrl: unknown, prefix: string): void {
  if (typeof redisUrl === 'string') {
    throw new ConfigError('REDIS_CLUSTER_NODES', 'and REDIS_URL are both set: use REDIS_URL for one Redis or REDIS_CLUSTER_NODES for a Redis Cluster, not both')
  }
  parseClusterNodes(nodes)
  try {
    clusterStatePrefix(prefix)
  } catch (err) {
    throw new ConfigError('REDIS_KEY_PREFIX', (err as Error).message)
  }
}

/** Reads `.env` from the working directory when there is one; variables already set win. */
export function loadDotEnv (file = '.env'): boolean {
  if (!existsSync(file)) return false
  process.loadEnvFile(file)
  return true
}

/**
 * The value Fastify's `trustProxy` takes, from the TRUST_PROXY string: a whole number is a hop
 * count (`1`: the one proxy in front; proxy-addr would read it as the address 0.0.0.1).
 */
export function parseTrustProxy (value: string): boolean | string | number {
  if (value === 'true') return true
  if (value === 'false' || value === '') return false
  if (/^[0-9]+$/.test(value.trim())) return Number(value.trim())
  return value
}

/** Why a TRUST_PROXY value is unsafe, or null: `true` believes any X-Forwarded-For. */
export function trustProxyWarning (value: string): string | null {
  const trust = parseTrustProxy(value)
  if (typeof trust === 'number') {
    return `TRUST_PROXY=${trust} trusts ${trust} hop(s) from whatever connects: safe only when clients cannot reach this server but through the proxies. ` +
      'A proxy CIDR (TRUST_PROXY=10.0.0.0/8) is safer'
  }
  if (trust !== true) return null
  return 'TRUST_PROXY=true trusts every X-Forwarded-For: any client can pick the IP it is limited and counted by. ' +
    'Set the proxies\' addresses or CIDRs instead (TRUST_PROXY=10.0.0.0/8,loopback) or a hop count (TRUST_PROXY=1)'
}

export function parseCorsOrigin (value: string): true | string[] {
  if (value === '*') return true
  return value.split(',').map(s => s.trim()).filter(Boolean)
}

/** Environment variable names, for docs and `.env.example` tests. */
export const configVariables: Record<Key, string> = Object.fromEntries(
  Object.entries(settings).map(([k, [v]]) => [k, v])
) as Record<Key, string>
