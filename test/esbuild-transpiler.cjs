// ts-node's transpiler for the test suite (tsconfig.json's `ts-node` section). Every test file is a process that
// loads the whole app from source: TypeScript's transpileModule was seconds of each one, esbuild
// strips the same types in a fraction of that. Types are checked by `npm run typecheck`.
// The output is kept in .tap/esbuild/, keyed by a hash of the source, its name, the options and
// esbuild's version: the 80-odd files of the suite transpile the same sources once, not once each.
const { createHash } = require('node:crypto')
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')
const { ScriptTarget } = require('typescript')

const cacheDir = join(__dirname, '..', '.tap', 'esbuild')
const esbuildVersion = require('esbuild/package.json').version

exports.create = function create ({ service, nodeModuleEmitKind }) {
  const { target = ScriptTarget.ES2022, useDefineForClassFields } = service.config.options
  const name = target === ScriptTarget.Latest ? 'esnext' : ScriptTarget[target].toLowerCase()
  const options = {
    loader: 'ts',
    format: nodeModuleEmitKind === 'nodecjs' ? 'cjs' : 'esm',
    target: name,
    sourcemap: 'external',
    // Class fields as tsc emits them for this target.
    tsconfigRaw: { compilerOptions: { target: name, useDefineForClassFields } }
  }
  const optionsKey = `${esbuildVersion}\0${JSON.stringify(options)}`
  let esbuild
  return {
    transpile (input, { fileName }) {
      const key = createHash('sha256').update(optionsKey).update('\0').update(fileName).update('\0').update(input).digest('hex')
      const path = join(cacheDir, `${key.slice(0, 32)}.json`)
      try {
        return JSON.parse(readFileSync(path, 'utf8'))
      } catch {}
      esbuild ??= require('esbuild')
      const { code, map } = esbuild.transformSync(input, { ...options, sourcefile: fileName })
      const out = { outputText: code, sourceMapText: map }
      try {
        // Files running in parallel may write the same entry: each writes its own and renames it in place.
        mkdirSync(cacheDir, { recursive: true })
        const partial = `${path}.${process.pid}.tmp`
        writeFileSync(partial, JSON.stringify(out))
        renameSync(partial, path)
      } catch {}
      return out
    }
  }
}
