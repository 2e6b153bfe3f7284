import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once as onceEvent } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

/** What owns the cluster: a tap test, or anything that runs its teardowns (the bench). */
type Test = { teardown (fn: () => unknown): void }

const run = promisify(execFile)

export interface RedisClusterOptions {
  masters?: number
  /** Replicas per master (1 for a failover test). */
  replicas?: number
  /** cluster-node-timeout: how long a master may be silent before its replica takes over. */
  nodeTimeoutMs?: number
}

export interface RedisCluster {
  /** REDIS_CLUSTER_NODES for it: every node, `127.0.0.1:P,…`. */
  nodes: string
  ports: number[]
  /** The ports of the nodes that are masters now (after a failover, a promoted replica's too). */
  masters (): Promise<number[]>
  /** The port of the master that serves `key`'s slot now. */
  masterOf (key: string): Promise<number>
  /** kill -9 of one node. */
  kill (port: number): Promise<void>
  /** Resolves once every live node reports cluster_state:ok and sees `masters` masters. */
  healthy (ms?: number): Promise<void>
  stop (): Promise<void>
}

async function isFree (port: number): Promise<boolean> {
  const server = createServer()
  return await new Promise((resolve) => {
    server.once('error', () => { resolve(false) })
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve(true) }) })
  })
}

/** A port P free with its cluster bus port P + 10000 (both must be below 65536). */
async function freeClusterPort (taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000)
    if (taken.has(port) || taken.has(port + 10_000) || taken.has(port - 10_000)) continue
    if (await isFree(port) && await isFree(port + 10_000)) return port
  }
  throw new Error('no free port pair for a Redis Cluster node')
}

async function cli (port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 })
  return stdout
}

async function until (what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * A Redis Cluster of its own (CONTRACT §12): `masters` × (1 + `replicas`) redis-server processes
 * with `--cluster-enabled yes` on free ports, their node files in a temp dir, joined by
 * `redis-cli --cluster create`. Ready when every node says cluster_state:ok (and every replica
 * has synced); killed and removed, files and all, on teardown.
 */
export async function startRedisCluster (t: Test, options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const { masters = 3, replicas = 0, nodeTimeoutMs = 1000 } = options
  const dir = mkdtempSync(join(tmpdir(), 'rw-redis-cluster-'))
  const children = new Map<number, ChildProcess>()
  const ports: number[] = []
  const stop = async () => {
    await Promise.all([...children.values()].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await onceEvent(child, 'exit')
      }
    }))
    children.clear()
    rmSync(dir, { recursive: true, force: true })
    process.off('exit', orphaned)
  }
  t.teardown(stop)
  // A file that times out or crashes skips its teardown: the nodes must not outlive it.
  const orphaned = () => {
    for (const child of children.values()) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', orphaned)
  const taken = new Set<number>()
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const port = await freeClusterPort(taken)
    taken.add(port)
    ports.push(port)
    const child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', String(nodeTimeoutMs), '--save', '', '--appendonly', 'no'
    ], { stdio: 'ignore' })
    children.set(port, child)
  }
  for (const port of ports) await until(`node ${port} to answer`, 10_000, async () => (await cli(port, 'PING')).trim() === 'PONG')
  await run('redis-cli', ['--cluster', 'create', ...ports.map(p => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 })

  const live = () => ports.filter(p => children.get(p)?.exitCode === null && children.get(p)?.signalCode === null)
  const mastersNow = async (): Promise<number[]> => {
    const lines = (await cli(live()[0], 'CLUSTER', 'NODES')).trim().split('\n')
    return lines.filter(l => /\bmaster\b/.test(l) && !/\bfail\b/.test(l)).map(l => Number(/:(\d+)@/.exec(l)?.[1]))
  }
  const healthy = async (ms = 20_000) => {
    await until('cluster_state:ok on every node', ms, async () => {
      for (const port of live()) {
        const info = await cli(port, 'CLUSTER', 'INFO')
        if (!info.includes('cluster_state:ok') || !info.includes(`cluster_size:${masters}`)) return false
      }
      return (await mastersNow()).length === masters
    })
    await until('every replica in sync', ms, async () => {
      for (const port of live()) {
        const info = await cli(port, 'INFO', 'replication')
        if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false
      }
      return true
    })
  }
  await healthy()
  return {
    nodes: ports.map(p => `127.0.0.1:${p}`).join(','),
    ports,
    masters: mastersNow,
    async masterOf (key) {
      const slot = Number((await cli(live()[0], 'CLUSTER', 'KEYSLOT', key)).trim())
      for (const line of (await cli(live()[0], 'CLUSTER', 'NODES')).trim().split('\n')) {
        const fields = line.split(' ')
        if (!fields[2].includes('master') || fields[2].includes('fail')) continue
        const serves = fields.slice(8).some((range) => {
          const [from, to = from] = range.split('-').map(Number)
          return slot >= from && slot <= to
        })
        if (serves) return Number(/:(\d+)@/.exec(fields[1])?.[1])
      }
      throw new Error(`no master serves slot ${slot}`)
    },
    async kill (port) {
      const child = children.get(port)
      if (child === undefined || child.exitCode !== null) return
      child.kill('SIGKILL')
      await onceEvent(child, 'exit')
    },
    healthy,
    stop
  }
}
