import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import { buildApp } from '../../src/app.js'
import { closableStreamsAdapter } from '../../src/socket/workarounds.js'
import { runServer } from './child.js'

/**
 * roomwire as `npm start` builds it, configured from the env the runner passes. The bench's own
 * BENCH_SOCKET_ADAPTER=streams runs it on the Redis Streams adapter it used before the sharded
 * one (the shard scenario's comparison; not a roomwire setting).
 */
await runServer(async () => {
  let streams: Redis | undefined
  const socketIo: Parameters<typeof buildApp>[0] = {}
  if (process.env.BENCH_SOCKET_ADAPTER === 'streams' && process.env.REDIS_URL) {
    const prefix = process.env.REDIS_KEY_PREFIX ?? ''
    streams = new Redis(process.env.REDIS_URL)
    socketIo.socketIo = {
      adapter: closableStreamsAdapter(streams, { streamName: `${prefix}socket.io`, channelPrefix: `${prefix}socket.io`, sessionKeyPrefix: `${prefix}sio:session:`, maxLen: 10_000 })
    }
  }
  const app = await buildApp({ env: process.env, ...socketIo })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    port: (app.server.address() as AddressInfo).port,
    connections: () => app.io.engine.clientsCount,
    close: async () => {
      await app.close()
      streams?.disconnect()
    }
  }
})
