import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import type t from 'tap'
import configPlugin from '../../plugins/config.js'
import socketIoPlugin from '../../plugins/socket-io.js'
import { freshRedisPrefix, type Mode } from '../helper.js'

/** The socket-io plugin alone on a bare Fastify; in services mode with the Redis Streams adapter. */
export async function bareSocketApp (test: Pick<typeof t, 'teardown'>, mode: Mode) {
  const env: Record<string, string> = mode === 'services'
    ? { REDIS_URL: process.env.REDIS_URL!, REDIS_KEY_PREFIX: freshRedisPrefix() }
    : {}
  const app = Fastify()
  await app.register(configPlugin, { env, logLevel: 'silent' })
  await app.register(socketIoPlugin)
  test.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

/** A log that keeps what it is told. */
export function recordingLog () {
  const lines: Array<{ level: string, obj: object, msg: string }> = []
  return {
    lines,
    warn (obj: object, msg: string) { lines.push({ level: 'warn', obj, msg }) },
    error (obj: object, msg: string) { lines.push({ level: 'error', obj, msg }) }
  }
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
