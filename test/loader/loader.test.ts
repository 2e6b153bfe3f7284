import { execFileSync } from 'node:child_process'
import t from 'tap'
import { packageRoot } from '../../src/paths.js'

// The suite's module hooks (scripts/test-loader/hooks.mjs), in this process and in fresh ones.

const stale = execFileSync(process.execPath, ['--input-type=module', '-e', "console.log((await import('./scripts/build-state.js')).stale())"], { cwd: packageRoot, encoding: 'utf8' }).trim() === 'true'
const built = !stale && process.env.RW_TEST_FROM_SOURCE !== '1'

t.test('this process loads the app from dist/ exactly when the build is fresh', async (t) => {
  const url = import.meta.resolve('../../src/paths.js')
  t.equal(url, new URL(built ? '../../dist/src/paths.js' : '../../src/paths.ts', import.meta.url).href)
  // The module that answered is the same one: a test never holds two copies of a module.
  const again = await import(url)
  t.equal(again.packageRoot, packageRoot)
})

/** What a fresh process with the hooks prints for `script`. */
function run (script: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(process.execPath, ['--import=./scripts/test-loader/register.mjs', '--input-type=module', '-e', script], {
    cwd: packageRoot, env: { ...process.env, ...env }, encoding: 'utf8'
  }).trim()
}

t.test('RW_TEST_FROM_SOURCE=1 runs the TypeScript sources, transpiled', async (t) => {
  const script = "const url = import.meta.resolve('./src/paths.js'); const { migrationsFolder } = await import(url); console.log(JSON.stringify({ url, migrationsFolder }))"
  const out = JSON.parse(run(script, { RW_TEST_FROM_SOURCE: '1' })) as { url: string, migrationsFolder: string }
  t.equal(out.url, new URL('../../src/paths.ts', import.meta.url).href)
  t.equal(out.migrationsFolder, `${packageRoot}/drizzle`)
})

t.test('a .js import that exists is left alone, in the sources and in node_modules', async (t) => {
  const out = run("console.log(import.meta.resolve('./scripts/build-state.js') + ' ' + import.meta.resolve('tap'))", { RW_TEST_FROM_SOURCE: '1' })
  const [own, tap] = out.split(' ')
  t.equal(own, new URL('../../scripts/build-state.js', import.meta.url).href)
  t.match(tap, /\/node_modules\/tap\//)
})
