// `npm start`, `npm test`, `npm run cluster|bench|soak` build first, but only when a source is
// newer than the last build: `tsc -b` itself takes most of a second to find nothing to do
// (it loads the compiler), which a restart should not pay. Stale or unsure → `tsc -b`.
import { spawnSync } from 'node:child_process'
import { utimesSync } from 'node:fs'
import { createRequire } from 'node:module'
import { BUILD_INFO, stale } from './build-state.js'

if (stale()) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const build = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { stdio: 'inherit' })
  if (build.status !== 0) process.exit(build.status ?? 1)
  // tsc leaves the build info alone when only timestamps moved: mark the check as done.
  const now = new Date()
  utimesSync(BUILD_INFO, now, now)
}
