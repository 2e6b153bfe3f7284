import { readdirSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Child } from './ipc.js'
import type { MemoryReport, ServerKind } from './types.js'

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..')

let ticks: number | undefined
function clockTicks (): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
    } catch {
      ticks = 100
    }
  }
  return ticks
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (fields 14 and 15): in clock ticks (10 ms). */
export function cpuTickSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces: count fields from after its closing paren.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / clockTicks()
}

/**
 * CPU seconds a process has used, to the nanosecond: the run time of each of its threads
 * (/proc/<pid>/task/<tid>/schedstat, first field), summed. A 4 s step of a server at 15 % CPU is
 * 60 clock ticks; counted in ticks its reading moves by ±1 tick at each end (issue 23). A thread
 * that exited takes its time with it, so the sum never goes below the tick count read with it
 * (Node's threads live as long as the process: the JS thread, libuv's pool, V8's helpers).
 */
export function cpuSeconds (pid: number): number {
  let ns = 0
  let tasks: string[]
  try {
    tasks = readdirSync(`/proc/${pid}/task`)
  } catch {
    return cpuTickSeconds(pid)
  }
  for (const tid of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  if (!(ns > 0)) return cpuTickSeconds(pid)
  return Math.max(ns / 1e9, cpuTickSeconds(pid))
}

/**
 * Write system calls a process has made (`syscw` of /proc/<pid>/io: write, writev, sendmsg …),
 * all its threads; the IPC channel to the runner included. NaN where /proc does not tell.
 */
export function writeCalls (pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/io`, 'utf8').split('\n').find(l => l.startsWith('syscw:'))
    return line === undefined ? NaN : Number(line.slice(6))
  } catch {
    return NaN
  }
}

const children = new Set<Child>()

/** Kills every child still running (exit, ctrl-c, an error). */
export function killAll (): void {
  for (const child of children) child.kill()
  children.clear()
}

process.once('exit', killAll)

function track (child: Child): Child {
  children.add(child)
  child.process.once('exit', () => children.delete(child))
  return child
}

export interface ServerHandle {
  kind: ServerKind
  url: string
  port: number
  pid: number
  child: Child
  /** Full GC in the server, then its process.memoryUsage(). */
  memory (): Promise<MemoryReport>
  /** Connections the server holds now. */
  connections (): Promise<number>
  cpu (): number
  /** Write system calls so far (writeCalls). */
  writes (): number
  stop (): Promise<void>
}

export interface ServerStart {
  env?: Record<string, string>
  /** Extra node flags (--cpu-prof …). */
  execArgv?: string[]
  startTimeoutMs?: number
}

/** Forks `bench/servers/<kind>.js` (with --expose-gc) and waits for it to listen. */
export async function startServer (kind: ServerKind, options: ServerStart = {}): Promise<ServerHandle> {
  const child = track(new Child(join(benchDir, 'servers', `${kind}.js`), {
    name: kind,
    env: { ...process.env, ...options.env },
    execArgv: ['--expose-gc', ...(options.execArgv ?? [])]
  }))
  let port: number
  try {
    ({ port } = await child.notice<{ port: number }>('listening', options.startTimeoutMs ?? 120_000))
  } catch (err) {
    child.kill()
    throw err
  }
  return {
    kind,
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    child,
    memory: () => child.request<MemoryReport>('memory'),
    connections: () => child.request<number>('connections'),
    cpu: () => cpuSeconds(child.pid),
    writes: () => writeCalls(child.pid),
    stop: () => child.stop()
  }
}

export interface ClientHandle {
  index: number
  pid: number
  request<T = unknown> (cmd: string, args?: unknown): Promise<T>
  cpu (): number
  stop (): Promise<void>
}

/** Forks a load client (`bench/client.js`). */
export async function startClient (index: number): Promise<ClientHandle> {
  const child = track(new Child(join(benchDir, 'client.js'), { name: `client ${index}`, execArgv: ['--max-old-space-size=4096'] }))
  await child.notice('ready', 60_000)
  return {
    index,
    pid: child.pid,
    request: (cmd, args) => child.request(cmd, args),
    cpu: () => cpuSeconds(child.pid),
    stop: () => child.stop(5_000)
  }
}
