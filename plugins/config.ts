import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import { loadConfig, trustProxyWarning, type Config, type ConfigInput } from '../src/config.js'

declare module 'fastify' {
  interface FastifyInstance {
    realtimeConfig: Config
    /** Identifies this process among the instances sharing one Redis. */
    instanceId: string
  }
}

export interface ConfigPluginOptions extends ConfigInput {
  /** Where settings are read from before the options apply; tests pass `{}`. */
  env?: NodeJS.ProcessEnv
  instanceId?: string
}

export default fp<ConfigPluginOptions>(async (app, opts) => {
  const { env = process.env, instanceId, ...options } = opts
  const config = loadConfig(env, options)
  for (const variable of config.generatedSecrets) {
    app.log.warn(`${variable} is not set: generated a random one for this process (tokens and IP hashes will not survive a restart or match other instances)`)
  }
  const trustWarning = trustProxyWarning(config.trustProxy)
  if (trustWarning) app.log.warn(trustWarning)
  app.decorate('realtimeConfig', config)
  app.decorate('instanceId', instanceId ?? randomUUID())
}, { name: 'config' })
