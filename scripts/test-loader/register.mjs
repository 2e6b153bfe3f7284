// Loaded into every test process (.taprc `node-arg`; with TAP_TYPE_STRIP_ONLY=1 tap's TypeScript
// plugin loads no ts-node). Registers ./hooks.mjs, which transpile the suite's TypeScript with esbuild.
// When dist/ is as new as its sources (`npm test` builds first) the app's modules load from
// dist/: the JavaScript tsc compiled, that `npm start` and the package run. When dist/ is
// stale, or with RW_TEST_FROM_SOURCE=1, they load from the sources.
import module from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { stale, SOURCES } from '../build-state.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const dist = process.env.RW_TEST_FROM_SOURCE !== '1' && !stale(root)
const data = { root: pathToFileURL(root).href, dist, sources: SOURCES }

// In this thread where module.registerHooks is dependable (Node 24.13 on, as tap's processinfo
// judges it): no hooks thread, no round trip to it per module. Elsewhere, in the hooks thread.
const [major, minor] = process.versions.node.split('.').map(Number)
if (typeof module.registerHooks === 'function' && (major > 24 || (major === 24 && minor >= 13))) {
  const hooks = await import('./hooks.mjs')
  hooks.initialize(data)
  module.registerHooks({ resolve: hooks.resolve, load: hooks.load })
} else {
  module.register('./hooks.mjs', import.meta.url, { data })
}
