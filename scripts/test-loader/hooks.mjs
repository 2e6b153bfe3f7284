// Module hooks for the test suite, registered by ./register.mjs. They replace ts-node, which
// cost more CPU per test file than the app it loaded (each of the ~90 files is a process):
// - resolve: a relative `./x.js` that does not exist but `./x.ts` does is that `.ts` (how the
//   sources import each other, as tsc's NodeNext resolution reads them); with `dist` set, a
//   module under src/, plugins/, routes/ or bench/ is its build under dist/ instead, all or
//   nothing (register.mjs checks the whole build), so no module is ever loaded from both places;
// - load: a `.ts` file outside node_modules is transpiled by esbuild (types stripped, not
//   checked: `npm run typecheck` checks them), the output kept in .tap/esbuild/ under a hash
//   of the source, so the suite transpiles each file once, not once per test file.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

let root = ''
let dist = ''
let sourcePrefixes = []
let cacheDir = ''
let optionsKey = ''
let esbuild
const options = { loader: 'ts', format: 'esm', target: 'es2022', sourcemap: 'inline', tsconfigRaw: { compilerOptions: { target: 'es2022', useDefineForClassFields: true } } }

export function initialize (data) {
  root = data.root
  dist = data.dist ? `${root}dist/` : ''
  sourcePrefixes = data.sources.map((dir) => `${root}${dir}/`)
  cacheDir = join(fileURLToPath(root), '.tap', 'esbuild')
  const version = createRequire(root).resolve('esbuild/package.json')
  optionsKey = `${JSON.parse(readFileSync(version, 'utf8')).version}\0${JSON.stringify(options)}`
}

const ours = (url) => url.startsWith(root) && !url.includes('/node_modules/')
// tsc's output imports only files that exist: nothing in dist/ needs the `.js` → `.ts` lookup.
const mayImportTs = (parent) => ours(parent) && (dist === '' || !parent.startsWith(dist))

// The hooks work both ways: registered with module.registerHooks (in the thread itself, `next`
// answers at once) and with module.register (in the hooks thread, `next` answers a promise).
const then = (value, use) => value instanceof Promise ? value.then(use) : use(value)

export function resolve (specifier, context, next) {
  const parent = context.parentURL
  if (parent !== undefined && mayImportTs(parent) && specifier.endsWith('.js') && (specifier.startsWith('./') || specifier.startsWith('../'))) {
    const url = new URL(specifier, parent).href
    const ts = url.slice(0, -'.js'.length) + '.ts'
    if (ours(url) && !existsSync(fileURLToPath(url)) && existsSync(fileURLToPath(ts))) return { url: inDist(ts), format: 'module', shortCircuit: true }
  }
  return then(next(specifier, context), (resolved) =>
    resolved.url.endsWith('.ts') && ours(resolved.url) ? { ...resolved, url: inDist(resolved.url), format: 'module' } : resolved)
}

/** The build of a source under one of the built folders, when the build is used. */
function inDist (url) {
  if (dist === '' || !sourcePrefixes.some((prefix) => url.startsWith(prefix))) return url
  return dist + url.slice(root.length, -'.ts'.length) + '.js'
}

export function load (url, context, next) {
  if (!url.endsWith('.ts') || url.endsWith('.d.ts') || !ours(url)) return next(url, context)
  const path = fileURLToPath(url)
  return { format: 'module', source: transpile(readFileSync(path, 'utf8'), path), shortCircuit: true }
}

function transpile (input, path) {
  const key = createHash('sha256').update(optionsKey).update('\0').update(path).update('\0').update(input).digest('hex')
  const cached = join(cacheDir, `${key.slice(0, 32)}.js`)
  try {
    return readFileSync(cached, 'utf8')
  } catch {}
  esbuild ??= createRequire(root)('esbuild')
  const { code } = esbuild.transformSync(input, { ...options, sourcefile: path })
  try {
    // Files running in parallel may write the same entry: each writes its own and renames it in place.
    mkdirSync(cacheDir, { recursive: true })
    const partial = `${cached}.${process.pid}.tmp`
    writeFileSync(partial, code)
    renameSync(partial, cached)
  } catch {}
  return code
}
