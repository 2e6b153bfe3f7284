import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LOCK_FILE, lockDataDir } from '../../src/db/data-dir-lock.js'
import { startInstance } from '../cluster/fixtures/processes.js'
import { post } from '../cluster/fixtures/clients.js'

/**
 * One PGlite directory serves one process: two processes on one DATA_DIR both appeared to work,
 * and the next start aborted on the damaged cluster. The second is now refused, and a lock left
 * by a process killed without a chance to clean up is taken over.
 */
const tempDir = (t: { teardown (fn: () => unknown): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'roomwire-lock-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!

t.test('a directory is held once; the release frees it and removes the file', async (t) => {
  const dir = tempDir(t)
  const release = lockDataDir(dir)
  t.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid), 'the file names this process')
  t.throws(() => lockDataDir(dir), /is in use by process/, 'a second open in the same process is refused')
  release()
  t.notOk(existsSync(join(dir, LOCK_FILE)), 'the release removes the file')
  const again = lockDataDir(dir)
  t.ok(existsSync(join(dir, LOCK_FILE)), 'taken again after the release')
  again()
})

t.test('a lock of a process that no longer runs is taken over; one of a live process is not', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, LOCK_FILE), `${deadPid()}\n`)
  const release = lockDataDir(dir)
  t.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid), 'the stale lock now names this process')
  release()
  // The parent of this test process runs, and is not this process.
  writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`)
  t.throws(() => lockDataDir(dir), new RegExp(`in use by process ${process.ppid}`), 'a live holder is named')
  t.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.ppid), 'and its lock is left alone')
})

t.test('a second server on one DATA_DIR exits with the reason; the first keeps working and the data survives a kill -9', async (t) => {
  const dir = tempDir(t)
  const env = { DATA_DIR: dir, JWT_SECRET: 'lock-test-jwt-secret-0123456789abcdef', IP_HASH_SECRET: 'lock-test-ip-secret-0123456789abcdef' }
  const first = await startInstance(t, env)
  const credentials = { username: 'locktest', password: 'lock test password 123' }
  const registered = await post(`${first.url}/api/auth/register`, credentials)
  t.equal(registered.status, 201, 'the first server writes')
  const second = await startInstance(t, env).then(() => null, (err: Error) => err.message)
  t.match(second, /instance exited early[\s\S]*DATA_DIR .* is in use by process/, 'the second exits, naming the holder')
  t.equal((await fetch(`${first.url}/health`)).status, 200, 'the first still answers')
  first.child.kill('SIGKILL')
  await first.exited
  const restarted = await startInstance(t, env)
  const login = await post(`${restarted.url}/api/auth/login`, credentials)
  t.equal(login.status, 200, 'after the kill -9 the stale lock is taken over and the user written before is there')
})
