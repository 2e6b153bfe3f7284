/**
 * Redis servers of the adapter tests' own, on free ports, removed at teardown: one standalone
 * Redis and a three-master Redis Cluster (the shared Redis is never stopped, flushed, nor made a
 * cluster). Both run without persistence.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Cluster, Redis } from 'ioredis'

const run = promisify(execFile)

/** A port free now, whose cluster bus port (+10000) is free too. */
async function freePort (): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    const free = async (p: number) => await new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(p, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (await free(port) && await free(port + 10_000)) return port
  }
}

async function startServer (dir: string, port: number, cluster: boolean): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
  if (cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`))
  const child = spawn('redis-server', args, { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    const ok = await run('redis-cli', ['-p', String(port), 'ping']).then(r => r.stdout.trim() === 'PONG', () => false)
    if (ok) return child
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  child.kill('SIGKILL')
  throw new Error(`redis-server on ${port} did not start`)
}

export interface OwnRedis {
  kind: 'redis' | 'cluster'
  /** A new client (the caller closes it). */
  client (): Redis | Cluster
  ports: number[]
  stop (): Promise<void>
}

async function stopAll (children: ChildProcess[], dir: string): Promise<void> {
  await Promise.all(children.map(child => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })))
  await rm(dir, { recursive: true, force: true })
}

export async function startRedis (): Promise<OwnRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'rw-adapter-'))
  const port = await freePort()
  const child = await startServer(dir, port, false)
  return {
    kind: 'redis',
    ports: [port],
    client: () => new Redis({ port, host: '127.0.0.1' }),
    stop: () => stopAll([child], dir)
  }
}

export async function startCluster (): Promise<OwnRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'rw-adapter-cluster-'))
  const ports = [await freePort(), await freePort(), await freePort()]
  const children = await Promise.all(ports.map(port => startServer(dir, port, true)))
  try {
    await run('redis-cli', ['--cluster', 'create', ...ports.map(p => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'])
    for (let i = 0; i < 200; i++) {
      const states = await Promise.all(ports.map(p => run('redis-cli', ['-p', String(p), 'cluster', 'info']).then(r => r.stdout, () => '')))
      if (states.every(s => s.includes('cluster_state:ok'))) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  } catch (err) {
    await stopAll(children, dir)
    throw err
  }
  return {
    kind: 'cluster',
    ports,
    client: () => new Cluster(ports.map(port => ({ host: '127.0.0.1', port }))),
    stop: () => stopAll(children, dir)
  }
}
