import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { killAll, startClient, type ClientHandle } from './lib/proc.js'
import { summarizeProfile } from './lib/profile.js'
import { createProgress } from './lib/progress.js'
import { evaluateGoals, latencyChart, machineInfo, replaceLatest, toMarkdown, type Results } from './lib/report.js'
import { createServices } from './lib/services.js'
import { ADMIN_API_KEY, IP_HASH_SECRET, JWT_SECRET } from './lib/tokens.js'
import type { Mode, ScenarioResult } from './lib/types.js'
import { SIZES, type Context } from './scenarios/common.js'
import { scenarios } from './scenarios/index.js'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const USAGE = `npm run bench -- [options]   (builds first; node dist/bench/run.js [options])

  (default)          quick mode: a few minutes
  --full             larger sizes, longer steps
  --smoke            tiny sizes (the test suite's check that the suite works)
  --only a,b         scenarios: ${scenarios.map(s => s.id).join(', ')}
  --out <dir>        results directory (default bench/results/)
  --clients <n>      load client processes (default 2)
  --write-docs       rewrite the "Latest run" section of docs/benchmarks.md from this run
  --cpu-prof         profile roomwire's servers (node --cpu-prof), top functions per scenario
  --quiet            no progress line
`

let parsed: ReturnType<typeof parseOptions>
try {
  parsed = parseOptions()
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
  process.exit(2)
}
const args = parsed.values

function parseOptions () {
  return parseArgs({
    options: {
      full: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      clients: { type: 'string', default: '2' },
      'write-docs': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    }
  })
}

if (args.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}

const mode: Mode = args.smoke ? 'smoke' : args.full ? 'full' : 'quick'
const only = args.only?.split(',').map(s => s.trim()).filter(Boolean)
const unknown = only?.filter(id => !scenarios.some(s => s.id === id)) ?? []
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}\n${USAGE}`)
  process.exit(2)
}
if (args['write-docs'] && only) {
  process.stderr.write('--write-docs needs a whole run: leave out --only\n')
  process.exit(2)
}
const clientCount = Number(args.clients)
if (!Number.isInteger(clientCount) || clientCount < 1) {
  process.stderr.write('--clients must be a positive integer\n')
  process.exit(2)
}
const outDir = resolve(args.out ?? join(repoRoot, 'bench', 'results'))
const progress = createProgress(!args.quiet)
const services = createServices({ databaseUrl: process.env.DATABASE_URL, redisUrl: process.env.REDIS_URL })

const dataDir = mkdtempSync(join(tmpdir(), 'roomwire-bench-pglite-'))

let interrupted = false
let cleaning: Promise<void> | undefined
function cleanup (): Promise<void> {
  cleaning ??= (async () => {
    killAll()
    progress.done()
    rmSync(dataDir, { recursive: true, force: true })
    await services.cleanup().catch((err: unknown) => { process.stderr.write(`bench: cleanup failed: ${String(err)}\n`) })
  })()
  return cleaning
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    process.stderr.write(`\nbench: ${signal}: stopping child processes, dropping this run's database and Redis keys\n`)
    cleanup().finally(() => process.exit(130))
  })
}

/** Writes through a .tmp file (ignored by git), so that a results file is never half written. */
function writeAtomic (path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text)
  renameSync(`${path}.tmp`, path)
}

async function main (): Promise<number> {
  const startedAt = new Date().toISOString()
  const loadStart = loadavg()
  const settings: Record<string, string> = {
    LOG_LEVEL: 'error',
    // PGlite on disk, kept for the run: only the first roomwire server pays for initdb.
    DATA_DIR: dataDir,
    CHAT_MESSAGES_PER_MINUTE: '100000000',
    REST_RATE_LIMIT_MAX: '1000000000',
    AUTH_RATE_LIMIT_MAX: '1000000',
    PUBLIC_MAX_CONNECTIONS_PER_IP: '100000',
    // The inbound budget (50 events/s, bursts of 100) would refuse a publisher above 50 msg/s.
    WS_EVENT_RATE: '1000000',
    WS_EVENT_BURST: '1000000'
  }
  const selected = scenarios.filter(s => !only || only.includes(s.id))
  // memory measures roomwire with its store in Redis too, when REDIS_URL is set; rest on PostgreSQL.
  const needsServices = selected.some(s => ['ack', 'redis', 'shard', 'memory', 'rest', 'rooms'].includes(s.id))
  const prepared = needsServices ? await services.prepare() : {}
  const clients: ClientHandle[] = await Promise.all(Array.from({ length: clientCount }, (_, i) => startClient(i)))
  const ctx: Context = {
    mode,
    sizes: SIZES[mode],
    progress,
    clients,
    roomwireEnv: {
      ...settings,
      JWT_SECRET,
      IP_HASH_SECRET,
      ADMIN_API_KEY,
      HOST: '127.0.0.1',
      PORT: '0',
      // The embedded default unless a scenario says otherwise.
      DATABASE_URL: '',
      REDIS_URL: ''
    },
    databaseUrl: prepared.databaseUrl,
    redisUrl: prepared.redisUrl,
    redisPrefix: services.redisPrefix,
    reused: new Map(),
    scenarioId: '',
    cpuProfileDir: args['cpu-prof'] ? mkdtempSync(join(tmpdir(), 'roomwire-bench-prof-')) : undefined
  }
  const results: ScenarioResult[] = []
  for (const scenario of selected) {
    if (interrupted) return 130
    const base = { id: scenario.id, title: scenario.title, details: [], figures: [] }
    const skip = scenario.skip?.(ctx)
    if (skip) {
      progress.note(`${scenario.id}: skipped: ${skip}`)
      results.push({ ...base, status: 'skipped', reason: skip, elapsedSeconds: 0 })
      continue
    }
    progress.scenario(scenario.id)
    ctx.scenarioId = scenario.id
    const t0 = Date.now()
    const cpu0 = clients.reduce((s, c) => s + c.cpu(), 0)
    try {
      const out = await scenario.run(ctx)
      results.push({
        ...base,
        ...out,
        ...(ctx.cpuProfileDir ? { profile: summarizeProfile(join(ctx.cpuProfileDir, scenario.id), repoRoot) } : {}),
        status: 'ok',
        clientCpuSeconds: { total: Math.round((clients.reduce((s, c) => s + c.cpu(), 0) - cpu0) * 100) / 100 },
        elapsedSeconds: Math.round((Date.now() - t0) / 100) / 10
      })
      progress.note(`${scenario.id}: done in ${Math.round((Date.now() - t0) / 1000)} s`)
    } catch (err) {
      if (interrupted) return 130
      const reason = String((err as Error)?.message ?? err)
      progress.note(`${scenario.id}: FAILED: ${reason}`)
      results.push({ ...base, status: 'failed', reason, elapsedSeconds: Math.round((Date.now() - t0) / 100) / 10 })
    }
  }
  await Promise.all([...ctx.reused.values()].map(s => s.stop()))
  await Promise.all(clients.map(c => c.stop()))
  await cleanup()

  const fanout = results.find(s => s.id === 'fanout' && s.status === 'ok')
  const stamp = startedAt.replace(/[:.]/g, '-')
  const report: Results = {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    mode,
    machine: machineInfo(loadStart),
    clientProcesses: clientCount,
    settings: { ...settings, DATA_DIR: '(a directory of the run, removed after it)' },
    scenarios: results,
    goals: evaluateGoals(results, {
      fanoutFirstRate: ctx.sizes.fanoutRates[0],
      largestMemoryLevel: ctx.sizes.memoryLevels[ctx.sizes.memoryLevels.length - 1],
      ackRate: ctx.sizes.ackRate,
      postgres: ctx.databaseUrl !== undefined,
      connectLevels: ctx.sizes.connectSockets
    }),
    chart: fanout?.series ? `${stamp}.svg` : null
  }
  mkdirSync(outDir, { recursive: true })
  // latest.* (and the docs) stand for a whole run: a run of some scenarios (--only) writes its own files only.
  const whole = only === undefined
  const svg = fanout?.series && latencyChart(fanout.series, `Fan-out, one room of ${ctx.sizes.fanoutSubscribers}: latency against publish rate (${mode})`)
  if (svg) writeAtomic(join(outDir, `${stamp}.svg`), svg)
  writeAtomic(join(outDir, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`)
  const markdown = toMarkdown(report, report.chart)
  writeAtomic(join(outDir, `${stamp}.md`), markdown)
  if (whole) {
    if (svg) writeAtomic(join(outDir, 'latest.svg'), svg)
    writeAtomic(join(outDir, 'latest.json'), `${JSON.stringify({ ...report, chart: report.chart && 'latest.svg' }, null, 2)}\n`)
    writeAtomic(join(outDir, 'latest.md'), toMarkdown(report, report.chart && 'latest.svg'))
  }
  if (args['write-docs']) {
    const docsPath = join(repoRoot, 'docs', 'benchmarks.md')
    const chart = report.chart && relative(dirname(docsPath), join(outDir, 'latest.svg'))
    writeAtomic(docsPath, replaceLatest(readFileSync(docsPath, 'utf8'), toMarkdown(report, chart, '###')))
  }
  process.stdout.write(markdown)
  process.stdout.write(`\nresults: ${join(outDir, `${stamp}.json`)} (and .md${svg ? ', .svg' : ''}${whole ? '; latest.*' : ''})\n`)
  if (ctx.cpuProfileDir) process.stdout.write(`cpu profiles: ${ctx.cpuProfileDir}\n`)
  return results.some(r => r.status === 'failed') ? 1 : 0
}

main().then((code) => { process.exitCode = code }, async (err: unknown) => {
  if (interrupted) return
  process.stderr.write(`bench: ${String((err as Error)?.stack ?? err)}\n`)
  await cleanup()
  process.exitCode = 1
})
