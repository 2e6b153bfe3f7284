import { loadConfig } from './dist/src/config.js'
for (const env of [{ LOG_LEVEL: 'loud' }, { PORT: 'eighty' }, { DOCS_ENABLED: 'yes' }, { REDIS_URL: 'http://x' }]) {
  try { loadConfig(env) } catch (e) { console.log(e.message) }
}
