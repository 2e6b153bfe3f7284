import type { AddressInfo } from 'node:net'
import { buildApp } from '../../src/app.js'
import { runServer } from './child.js'

/** roomwire as `npm start` builds it, configured from the env the runner passes. */
await runServer(async () => {
  const app = await buildApp({ env: process.env })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    port: (app.server.address() as AddressInfo).port,
    connections: () => app.io.engine.clientsCount,
    close: () => app.close()
  }
})
