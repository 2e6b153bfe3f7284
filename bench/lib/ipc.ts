import { fork, type ChildProcess } from 'node:child_process'

/** A request from the parent to a child process, over the fork IPC channel. */
export interface Request { id: number, cmd: string, args?: unknown }
/** The child's answer to one request. */
export interface Reply { id: number, ok: boolean, result?: unknown, error?: string }
/** A message the child sends on its own (it is up: its port). */
export interface Notice { notice: string, data?: unknown }

export type Handlers = Record<string, (args: any) => unknown>

/** Child side: answers the parent's requests with `handlers`; an unknown command is an error. */
export function serveRequests (handlers: Handlers): void {
  if (!process.send) throw new Error('run this script with child_process.fork')
  process.on('message', (message: Request) => {
    const handler = handlers[message.cmd]
    const answer = (reply: Omit<Reply, 'id'>) => { process.send!({ id: message.id, ...reply }) }
    if (!handler) return answer({ ok: false, error: `unknown command ${message.cmd}` })
    Promise.resolve()
      .then(() => handler(message.args))
      .then((result) => answer({ ok: true, result }), (err: unknown) => answer({ ok: false, error: String((err as Error)?.stack ?? err) }))
  })
  // The parent went away (ctrl-c, a crash): nothing should outlive it.
  process.on('disconnect', () => process.exit(0))
}

export function notifyParent (notice: string, data?: unknown): void {
  process.send?.({ notice, data } satisfies Notice)
}

/** Parent side of one forked child: requests by id, the first notice of a kind awaited. */
export class Child {
  readonly process: ChildProcess
  private nextId = 1
  private pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private notices = new Map<string, unknown[]>()
  private waiters = new Map<string, Array<(data: unknown) => void>>()
  private exited: Promise<number | null>
  stderr = ''

  constructor (script: string, options: { env?: NodeJS.ProcessEnv, execArgv?: string[], name: string }) {
    this.process = fork(script, [], {
      env: options.env ?? process.env,
      execArgv: options.execArgv ?? [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced'
    })
    this.process.stderr?.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-4000) })
    this.process.on('message', (message: Reply | Notice) => {
      if ('notice' in message) {
        const waiting = this.waiters.get(message.notice)?.shift()
        if (waiting) waiting(message.data)
        else this.notices.set(message.notice, [...(this.notices.get(message.notice) ?? []), message.data])
        return
      }
      const entry = this.pending.get(message.id)
      if (!entry) return
      this.pending.delete(message.id)
      if (message.ok) entry.resolve(message.result)
      else entry.reject(new Error(`${options.name}: ${message.error}`))
    })
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code) => {
        for (const { reject } of this.pending.values()) reject(new Error(`${options.name} exited (${code}): ${this.stderr.trim().slice(-800)}`))
        this.pending.clear()
        resolve(code)
      })
    })
  }

  get pid (): number { return this.process.pid! }

  request<T = unknown> (cmd: string, args?: unknown): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      if (!this.process.connected) {
        this.pending.delete(id)
        return reject(new Error(`process ${this.pid} is gone: ${this.stderr.trim().slice(-800)}`))
      }
      this.process.send({ id, cmd, args } satisfies Request)
    })
  }

  /** The child's first `notice` (queued if it came already); rejects if it exits first. */
  notice<T = unknown> (name: string, timeoutMs: number): Promise<T> {
    const queued = this.notices.get(name)
    if (queued && queued.length > 0) return Promise.resolve(queued.shift() as T)
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${name}" from process ${this.pid} in ${timeoutMs} ms: ${this.stderr.trim().slice(-800)}`)), timeoutMs)
      const list = this.waiters.get(name) ?? []
      list.push((data) => { clearTimeout(timer); resolve(data as T) })
      this.waiters.set(name, list)
      this.exited.then((code) => { clearTimeout(timer); reject(new Error(`process ${this.pid} exited (${code}) before "${name}": ${this.stderr.trim().slice(-800)}`)) }, () => {})
    })
  }

  /** Asks it to stop (`stop` command, so a --cpu-prof profile is written), then kills it. */
  async stop (graceMs = 30_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs)
    this.request('stop').catch(() => {})
    await this.exited
    clearTimeout(timer)
  }

  kill (): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL')
  }
}
