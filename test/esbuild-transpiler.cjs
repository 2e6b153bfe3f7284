// ts-node's transpiler for the test suite (tsconfig.json's `ts-node` section). Every test file is a process that
// loads the whole app from source: TypeScript's transpileModule was seconds of each one, esbuild
// strips the same types in a fraction of that. Types are checked by `npm run typecheck`.
const { transformSync } = require('esbuild')
const { ScriptTarget } = require('typescript')

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
  return {
    transpile (input, { fileName }) {
      const { code, map } = transformSync(input, { ...options, sourcefile: fileName })
      return { outputText: code, sourceMapText: map }
    }
  }
}
