// `npm start`, `npm test`, `npm run cluster|bench|soak` build first, but only when a source is
// newer than the last build: `tsc -b` itself takes most of a second to find nothing to do
// (it loads the compiler), which a restart should not pay. Stale or unsure → `tsc -b`.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync, utimesSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const BUILD_INFO = 'dist/build.tsbuildinfo'
const SOURCES = ['src', 'plugins', 'routes', 'bench']
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']

function mtimeOf (path) {
  try { return statSync(path).mtimeMs } catch { return null }
}

/** The newest mtime under `dir` (files and directories: a deleted file changes its directory). */
function newestIn (dir) {
  let newest = mtimeOf(dir) ?? 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : (mtimeOf(path) ?? 0))
  }
  return newest
}

function stale () {
  const built = mtimeOf(BUILD_INFO)
  if (built === null) return true
  const sources = SOURCES.filter((dir) => mtimeOf(dir) !== null).map(newestIn)
  const configs = CONFIGS.map((file) => mtimeOf(file) ?? 0)
  return Math.max(...sources, ...configs) > built
}

if (stale()) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const build = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { stdio: 'inherit' })
  if (build.status !== 0) process.exit(build.status ?? 1)
  // tsc leaves the build info alone when only timestamps moved: mark the check as done.
  const now = new Date()
  utimesSync(BUILD_INFO, now, now)
}
