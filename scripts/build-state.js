// Whether dist/ is older than what it is built from: `scripts/build-if-stale.js` builds when it
// is, and the test suite's loader (scripts/test-loader/) runs the built JavaScript only when it is not.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const BUILD_INFO = 'dist/build.tsbuildinfo'
/** The folders `tsconfig.build.json` compiles into dist/ (the same names under it). */
export const SOURCES = ['src', 'plugins', 'routes', 'bench']
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

/** True when a source or config under `root` is newer than the last build, or there is none. */
export function stale (root = '.') {
  const built = mtimeOf(join(root, BUILD_INFO))
  if (built === null) return true
  const sources = SOURCES.map((dir) => join(root, dir)).filter((dir) => mtimeOf(dir) !== null).map(newestIn)
  const configs = CONFIGS.map((file) => mtimeOf(join(root, file)) ?? 0)
  return Math.max(...sources, ...configs) > built
}
