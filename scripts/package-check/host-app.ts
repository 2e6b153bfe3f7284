// A fresh host app, as a new user writes it from the README: roomwire under /rt with Fastify's
// defaults (pluginTimeout 10 s), then /rt/health and a socket on /sync under the prefix.
import Fastify from 'fastify'
import { realtime } from 'roomwire'
import type { SyncServerToClientEvents, SyncClientToServerEvents } from 'roomwire/client'
import { io, type Socket } from 'socket.io-client'

const app = Fastify()
await app.register(realtime, { prefix: '/rt', dataDir: 'memory', env: {} })
const address = await app.listen({ port: 0, host: '127.0.0.1' })

const health = await fetch(`${address}/rt/health`)
const body = await health.json() as { status: string }
if (health.status !== 200 || body.status !== 'ok') throw new Error(`/rt/health answered ${health.status}`)

const socket: Socket<SyncServerToClientEvents, SyncClientToServerEvents> = io(`${address}/sync`, { path: '/rt/socket.io', transports: ['websocket'] })
await new Promise<void>((resolve, reject) => {
  socket.on('connect', resolve)
  socket.on('connect_error', reject)
})
socket.close()
await app.close()
console.log(`host app ok: ${address}/rt/health answered ${JSON.stringify(body.status)}, /sync connected at path /rt/socket.io`)
