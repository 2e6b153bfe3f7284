// `npm run dev`: recompile on change (tsc in build mode, watching) and restart the server when
// dist/ changes (node --watch). Both stop together on Ctrl-C or when either ends.
import { spawn } from 'node:child_process'

const children = [
  spawn('tsc', ['-b', '-w', '--preserveWatchOutput', 'tsconfig.build.json'], { stdio: 'inherit', shell: process.platform === 'win32' }),
  spawn(process.execPath, ['--watch', 'dist/src/server.js'], { stdio: 'inherit' })
]

let stopping = false
function stopAll (code) {
  if (stopping) return
  stopping = true
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
  process.exitCode = code
}

for (const child of children) child.on('exit', (code) => stopAll(code ?? 0))
process.on('SIGINT', () => stopAll(0))
process.on('SIGTERM', () => stopAll(0))
