import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The file in a PGlite directory that names the process holding it. */
export const LOCK_FILE = 'roomwire.lock'

/** Directories this process holds: a second open from the same process is refused as well. */
const held = new Set<string>()

/**
 * Takes `dir` (an absolute path) for this process, or throws naming the process that has it.
 * PGlite keeps no lock of its own, and two processes writing one data directory both appear to
 * work until the next start, which aborts on the damaged cluster. A lock left by a process
 * that died (kill -9, a crash) is taken over: its pid no longer runs, or it is this process's
 * own pid (a container's pid 1 after a restart). Returns the release, which removes the file.
 */
export function lockDataDir (dir: string): () => void {
  const file = join(dir, LOCK_FILE)
  if (held.has(dir)) throw inUse(dir, process.pid)
  if (!tryCreate(file)) {
    const holder = readHolder(file)
    if (holder !== null && holder !== process.pid && running(holder)) throw inUse(dir, holder)
    // Stale: removed, then taken like a free one. Should another process take it over in the
    // same instant, one of the two creates wins and the other sees a live holder.
    try { unlinkSync(file) } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err }
    if (!tryCreate(file)) throw inUse(dir, readHolder(file) ?? 'unknown')
  }
  held.add(dir)
  let released = false
  return () => {
    if (released) return
    released = true
    held.delete(dir)
    if (readHolder(file) === process.pid) {
      try { unlinkSync(file) } catch { /* already gone */ }
    }
  }
}

function tryCreate (file: string): boolean {
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' })
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

function readHolder (file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

function running (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it runs, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function inUse (dir: string, holder: number | string): Error {
  return new Error(`DATA_DIR ${dir} is in use by process ${holder}: one PGlite directory serves one process ` +
    '(a second one damages it). Stop that process, or give this one another DATA_DIR (or DATA_DIR=memory, or DATABASE_URL). ' +
    `If no such process runs, remove ${join(dir, LOCK_FILE)}.`)
}
