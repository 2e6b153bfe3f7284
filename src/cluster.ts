import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { loadDotEnv } from './config.js'

/**
 * `npm run cluster -- N`: N roomwire instances on consecutive ports (PORT, PORT+1, …) sharing
 * DATABASE_URL and REDIS_URL (or REDIS_CLUSTER_NODES), as a load balancer would see them. Signals are passed on; the
 * command exits when every instance has exited.
 */
loadDotEnv()
const count = Number(process.argv[2] ?? 2)
if (!Number.isInteger(count) || count < 1 || count > 64) {
  console.error('usage: npm run cluster -- <instances (1-64)>')
  process.exit(2)
}
if (!process.env.DATABASE_URL || !(process.env.REDIS_URL || process.env.REDIS_CLUSTER_NODES)) {
  console.error('cluster: set DATABASE_URL and REDIS_URL (or REDIS_CLUSTER_NODES); instances must share PostgreSQL and Redis')
  process.exit(2)
}
const basePort = Number(process.env.PORT ?? 3000)
// Instances must agree on the secrets, or tokens and IP hashes would differ between them.
const shared = {
  JWT_SECRET: process.env.JWT_SECRET ?? randomBytes(32).toString('hex'),
  IP_HASH_SECRET: process.env.IP_HASH_SECRET ?? randomBytes(32).toString('hex')
}
const server = fileURLToPath(new URL('./server.js', import.meta.url))
const children: ChildProcess[] = []
let running = 0
let worst = 0

for (let i = 0; i < count; i++) {
  const child = spawn(process.execPath, [server], {
    env: { ...process.env, ...shared, PORT: String(basePort + i) },
    stdio: 'inherit'
  })
  running++
  child.on('exit', (code, signal) => {
    running--
    if (code !== 0) worst = Math.max(worst, code ?? 1)
    console.error(`cluster: instance on port ${basePort + i} exited (${signal ?? code})`)
    if (running === 0) process.exit(worst)
  })
  children.push(child)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => { for (const child of children) child.kill(signal) })
}
