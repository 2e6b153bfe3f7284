import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package root, found from this file whether it runs from `src/` or from `dist/src/`. */
function findRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'drizzle'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('roomwire: cannot find the package root (drizzle/ folder)')
    dir = parent
  }
  return dir
}

export const packageRoot = findRoot()
export const migrationsFolder = join(packageRoot, 'drizzle')
