import { readFileSync } from 'node:fs'
import os from 'node:os'
import type { Figure, LatencyStep, Mode, ScenarioResult } from './types.js'

export interface Machine { cpu: string, cores: number, ramGiB: number, node: string, os: string, loadAverage: { start: number[], end: number[] } }

/** The machine; `loadStart`: os.loadavg() when the run began (a busy machine shows here). */
export function machineInfo (loadStart: number[]): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown'
  let osName = `${os.type()} ${os.release()}`
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu
  } catch {}
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]
    if (pretty) osName = `${pretty} (${os.type()} ${os.release()})`
  } catch {}
  const load = (l: number[]) => l.map(v => Math.round(v * 100) / 100)
  return {
    cpu,
    cores: os.cpus().length,
    ramGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    os: osName,
    loadAverage: { start: load(loadStart), end: load(os.loadavg()) }
  }
}

export interface Goal { text: string, figure: string, value: number | null, threshold: string, met: boolean | null, note?: string }

export interface Results {
  version: 1
  startedAt: string
  finishedAt: string
  mode: Mode
  machine: Machine
  clientProcesses: number
  settings: Record<string, string>
  scenarios: ScenarioResult[]
  goals: Goal[]
  chart: string | null
}

const find = (scenarios: ScenarioResult[], key: string): Figure | undefined => scenarios.flatMap(s => s.figures).find(f => f.key === key)
const ratioTo = (f: Figure | undefined, baseline: string) => f?.baselines.find(b => b.name === baseline)?.ratio ?? null

/** The issues' goals, each read from a figure of this run (null: not measured here). */
export function evaluateGoals (
  scenarios: ScenarioResult[], ctx: { fanoutFirstRate: number, largestMemoryLevel: number, ackRate: number, postgres: boolean, connectLevels: number[] }
): Goal[] {
  const ratioGoal = (text: string, key: string, baseline: string, min: number | null, max: number | null, note?: string): Goal => {
    const value = ratioTo(find(scenarios, key), baseline)
    const met = value === null ? null : (min === null || value >= min) && (max === null || value <= max)
    return { text, figure: `${key} ÷ ${baseline}`, value, threshold: min !== null ? `≥ ${min}×` : `≤ ${max}×`, met, ...(note ? { note } : {}) }
  }
  const valueGoal = (text: string, key: string, max: number, unit: string, note?: string): Goal => {
    const value = find(scenarios, key)?.subject.value ?? null
    return { text, figure: key, value, threshold: `≤ ${max}${unit}`, met: value === null ? null : value <= max, ...(note ? { note } : {}) }
  }
  const p99at2 = find(scenarios, 'fanout.p99.first')?.subject.value ?? null
  const ack = find(scenarios, 'ack.p99Ms')?.subject.value ?? null
  const ackComparable = ctx.postgres && ctx.ackRate === 100
  // Issue 23: each per-CPU ratio against its bare baseline with a spread under ±5 % (latency
  // and request-rate ratios carry spreads too, but the goal is about CPU per message).
  const perCpu = scenarios.flatMap(s => s.figures).filter(f => f.unit === 'deliveries/CPU-s')
  const spreads = perCpu.flatMap(f => f.baselines.filter(b => b.spread && b.name.startsWith('bare-')).map(b => b.spread!.halfRangePct))
  const widest = spreads.length > 0 ? Math.max(...spreads) : null
  const joinPg = find(scenarios, 'rest.join.pg.p99')?.subject.value ?? null
  const small = ctx.connectLevels[0]
  const large = ctx.connectLevels[ctx.connectLevels.length - 1]
  return [
    ratioGoal('Fan-out deliveries per server CPU-second ≥ 1.0× bare Socket.IO (#23; #9 asked 0.9×)', 'fanout.cpu', 'bare-socketio', 1, null),
    ratioGoal('Many rooms of 10: deliveries per server CPU-second ≥ 1.0× bare Socket.IO (#23)', 'rooms.deliveriesPerServerCpuSecond', 'bare-socketio', 1, null),
    ratioGoal('Idle heap per connection ≤ 1.1× bare Socket.IO (embedded defaults: the store is in the heap)', `memory.heap.${ctx.largestMemoryLevel}`, 'bare-socketio', null, 1.1),
    ratioGoal('Idle heap per connection ≤ 1.1× bare Socket.IO (REDIS_URL: the store is in Redis)', `memory.redis.heap.${ctx.largestMemoryLevel}`, 'bare-socketio', null, 1.1),
    ...ctx.connectLevels.map(n => ratioGoal(`Connect + join rate at ${n} distinct users ≥ 0.8× bare Socket.IO (#17)`, `connect.rate.${n}`, 'bare-socketio', 0.8, null)),
    valueGoal(`Time per connection at ${large} ≤ 1.2× the time at ${small} (#17: linear)`, 'connect.growth', 1.2, '×'),
    ...ctx.connectLevels.map(n => ratioGoal(`Disconnect storm rate at ${n} ≥ 0.8× bare Socket.IO (#17)`, `disconnect.rate.${n}`, 'bare-socketio', 0.8, null)),
    valueGoal(`Time per disconnect at ${large} ≤ 1.2× the time at ${small} (#17)`, 'disconnect.growth', 1.2, '×'),
    ratioGoal('Join storm into one code room: bytes ≤ 0.1× seed 003 done literally (#17)', 'storm.bytes', 'bare-seed003', null, 0.1),
    {
      text: 'Fan-out to 1k subscribers at 2 msg/s: p99 ≤ 20 ms',
      figure: 'fanout.p99.first',
      value: p99at2,
      threshold: '≤ 20 ms',
      met: ctx.fanoutFirstRate === 2 && p99at2 !== null ? p99at2 <= 20 : null,
      ...(ctx.fanoutFirstRate !== 2 ? { note: `this mode's first rate is ${ctx.fanoutFirstRate} msg/s` } : {})
    },
    {
      text: '`send_message` with storage: ack p99 ≤ 10 ms at 100 msg/s on PostgreSQL',
      figure: 'ack.p99Ms',
      value: ack,
      threshold: '≤ 10 ms',
      met: ackComparable && ack !== null ? ack <= 10 : null,
      ...(!ackComparable ? { note: `measured ${ctx.postgres ? '' : 'on PGlite '}at ${ctx.ackRate} msg/s: not the goal's conditions` } : {})
    },
    ratioGoal('Redis adapter (sharded) on one instance ≥ 0.85× the in-memory adapter: deliveries/s at the same publish rate, interleaved (#18)', 'redis.same.deliveries.1', 'in-memory adapter', 0.85, null),
    ratioGoal('Redis adapter (sharded) on one instance ≥ 0.85× the in-memory adapter: deliveries per server CPU-second at that rate (#18)', 'redis.same.cpu.1', 'in-memory adapter', 0.85, null),
    ...[2, 4].map(n => valueGoal(`Sharded fan-out on a Redis Cluster, ${n} instances: largest share of the published messages one instance receives ≤ 1/${n} + 10 % (#18)`,
      `shard.cluster.share.${n}`, Math.round((1 / n + 0.1) * 100) / 100, '')),
    ...[1, 2, 4].map(n => ratioGoal(`Sharded fan-out on a Redis Cluster, ${n} instance${n === 1 ? '' : 's'}: deliveries per server CPU-second ≥ 0.85× single Redis (#18)`,
      `shard.cluster.cpu.${n}`, `sharded adapter, ${n} instance${n === 1 ? '' : 's'}`, 0.85, null)),
    ratioGoal('REST `/health` ≥ 0.95× a bare Fastify (requests/s)', 'rest.health.rps', 'bare-fastify', 0.95, null),
    {
      text: 'REST join route on PostgreSQL measured, with its p99 (#23)',
      figure: 'rest.join.pg.p99',
      value: joinPg,
      threshold: 'reported',
      met: joinPg === null ? null : true,
      ...(joinPg === null ? { note: 'DATABASE_URL unset' } : {})
    },
    {
      text: 'Every interleaved per-CPU ratio against a bare baseline with a spread under ±5 % (#23)',
      figure: 'widest ± half-range of the repeated per-CPU ratios',
      value: widest,
      threshold: '≤ 5 %',
      met: widest === null ? null : widest <= 5
    }
  ]
}

const LABEL: Record<string, string> = { roomwire: 'roomwire', 'roomwire-redis': 'roomwire (store in Redis)', 'roomwire-pg': 'roomwire (PostgreSQL)', 'roomwire-bufferutil': 'roomwire (ws + bufferutil)', 'bare-socketio': 'bare Socket.IO', 'bare-seed003': 'bare Socket.IO, seed 003 literally', 'raw-ws': 'raw ws', 'bare-fastify': 'bare Fastify' }
const label = (name: string) => LABEL[name] ?? name

function num (v: number | null | undefined): string {
  if (v === null || v === undefined) return '—'
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US')
  return String(Math.round(v * 100) / 100)
}

function stepsTable (series: Record<string, LatencyStep[]>): string[] {
  const lines = [
    '| server | msg/s | delivered / expected | deliveries/s | per server CPU-s | p50 ms | p99 ms | max ms | server CPU s | client CPU s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
  ]
  for (const [name, steps] of Object.entries(series)) {
    for (const s of steps) {
      lines.push(`| ${label(name)} | ${s.rate} | ${num(s.received)} / ${num(s.expected)} | ${num(s.deliveriesPerSecond)} | ${num(s.deliveriesPerServerCpuSecond)} | ${num(s.p50Ms)} | ${num(s.p99Ms)} | ${num(s.maxMs)} | ${num(s.serverCpuSeconds)} | ${num(s.clientCpuSeconds)} |`)
    }
  }
  return lines
}

/** The run as Markdown: goals, then each scenario's figures against their baselines. */
export function toMarkdown (r: Results, chartHref: string | null, heading = '#'): string {
  const m = r.machine
  const out: string[] = [
    `${heading} roomwire benchmarks: ${r.startedAt} (${r.mode} mode)`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}, ${m.os}. ` +
    `Load from ${r.clientProcesses} client processes on the same machine. Run took ${Math.round((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000)} s; ` +
    `load average (1, 5, 15 min) ${m.loadAverage.start.join(', ')} at the start, ${m.loadAverage.end.join(', ')} at the end.`,
    '',
    `Bench settings (roomwire env): ${Object.entries(r.settings).map(([k, v]) => `\`${k}=${v}\``).join(', ')}.`,
    '',
    ...(r.mode === 'smoke' ? ['Smoke mode: tiny sizes, one roomwire process reused across scenarios; these figures only show that the suite runs.', ''] : []),
    `${heading}# Goals (issues #9, #17, #23)`,
    '',
    '| goal | figure | value | threshold | result |',
    '|---|---|---:|---|---|'
  ]
  for (const g of r.goals) {
    const result = g.met === null ? `not measured${g.note ? ` (${g.note})` : ''}` : g.met ? '**met**' : '**missed**'
    out.push(`| ${g.text} | \`${g.figure}\` | ${num(g.value)} | ${g.threshold} | ${result} |`)
  }
  for (const s of r.scenarios) {
    out.push('', `${heading}# ${s.title} (\`${s.id}\`)`, '')
    if (s.status !== 'ok') {
      out.push(`**${s.status}**: ${s.reason}`)
      continue
    }
    for (const d of s.details) out.push(`- ${d}`)
    if (s.clientCpuSeconds) out.push(`- client CPU (all client processes): ${num(s.clientCpuSeconds.total)} s over ${num(s.elapsedSeconds)} s of wall time`)
    const repeated = s.figures.some(f => f.baselines.some(b => b.spread))
    out.push('', `| figure | unit | subject | value | baseline | baseline value | ratio |${repeated ? ' spread of the ratio (repetitions: min–max) |' : ''}`,
      `|---|---|---|---:|---|---:|---:|${repeated ? '---|' : ''}`)
    for (const f of s.figures) {
      for (const b of f.baselines) {
        const spread = b.spread ? ` ±${b.spread.halfRangePct} % (${b.spread.n}: ${b.spread.min}–${b.spread.max}) |` : repeated ? ' one run |' : ''
        out.push(`| ${f.label} | ${f.unit} | ${label(f.subject.name)} | ${num(f.subject.value)} | ${label(b.name)} | ${num(b.value)} | ${b.ratio === null ? '—' : `${b.ratio}×`} |${spread}`)
      }
    }
    if (s.series && s.id !== 'rooms') out.push('', ...stepsTable(s.series))
    if (s.id === 'fanout' && chartHref) out.push('', `![p50 and p99 latency against publish rate](${chartHref})`)
    if (s.profile) {
      out.push('', `Profile (\`--cpu-prof\`) of roomwire's server${s.profile.files > 1 ? 's' : ''} in this scenario: top self time, ${num(s.profile.totalMs)} ms of samples in all (idle left out).`, '',
        '| self ms | % | function | where |', '|---:|---:|---|---|')
      for (const e of s.profile.top) out.push(`| ${num(e.selfMs)} | ${e.percent} | \`${e.fn}\` | ${e.where} |`)
    }
  }
  return `${out.join('\n')}\n`
}

const COLORS: Record<string, string> = { roomwire: '#d0473a', 'bare-socketio': '#2f6db5', 'raw-ws': '#3a9a4a' }

/** p50 (dashed) and p99 (solid) latency against publish rate, both axes logarithmic. */
export function latencyChart (series: Record<string, LatencyStep[]>, title: string): string {
  const W = 760
  const H = 440
  const pad = { l: 70, r: 180, t: 40, b: 55 }
  const steps = Object.values(series).flat()
  const rates = steps.map(s => s.rate)
  const lat = steps.flatMap(s => [s.p50Ms, s.p99Ms]).filter(v => v > 0)
  const x0 = Math.log10(Math.min(...rates) / 1.5)
  const x1 = Math.log10(Math.max(...rates) * 1.5)
  const y0 = Math.floor(Math.log10(Math.max(0.01, Math.min(...lat))))
  const y1 = Math.ceil(Math.log10(Math.max(200, ...lat)))
  const x = (rate: number) => pad.l + (Math.log10(rate) - x0) / (x1 - x0) * (W - pad.l - pad.r)
  const y = (ms: number) => H - pad.b - (Math.log10(Math.max(ms, 10 ** y0)) - y0) / (y1 - y0) * (H - pad.t - pad.b)
  const svg: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${pad.l}" y="22" font-size="15" font-weight="bold">${title}</text>`
  ]
  for (let e = y0; e <= y1; e++) {
    const v = 10 ** e
    svg.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${pad.l - 8}" y="${y(v) + 4}" text-anchor="end">${v >= 1 ? v : v.toFixed(-e)} ms</text>`)
  }
  svg.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(100)}" y2="${y(100)}" stroke="#999" stroke-dasharray="2 3"/>`,
    `<text x="${W - pad.r - 4}" y="${y(100) - 4}" text-anchor="end" fill="#777">p99 limit of the steps (100 ms)</text>`)
  for (const rate of [...new Set(rates)].sort((a, b) => a - b)) {
    svg.push(`<line x1="${x(rate)}" x2="${x(rate)}" y1="${pad.t}" y2="${H - pad.b}" stroke="#eee"/>`,
      `<text x="${x(rate)}" y="${H - pad.b + 16}" text-anchor="middle">${rate}</text>`)
  }
  svg.push(`<text x="${(pad.l + W - pad.r) / 2}" y="${H - 14}" text-anchor="middle">publish rate (messages/s, log scale)</text>`,
    `<rect x="${pad.l}" y="${pad.t}" width="${W - pad.l - pad.r}" height="${H - pad.t - pad.b}" fill="none" stroke="#444"/>`)
  let legendY = pad.t + 10
  for (const [name, list] of Object.entries(series)) {
    const color = COLORS[name] ?? '#555'
    for (const [key, dash] of [['p99Ms', ''], ['p50Ms', '6 4']] as const) {
      const points = list.map(s => `${x(s.rate).toFixed(1)},${y(s[key]).toFixed(1)}`)
      svg.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`)
      for (const s of list) svg.push(`<circle cx="${x(s.rate).toFixed(1)}" cy="${y(s[key]).toFixed(1)}" r="3" fill="${color}"/>`)
      svg.push(`<line x1="${W - pad.r + 12}" x2="${W - pad.r + 40}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
        `<text x="${W - pad.r + 46}" y="${legendY + 4}">${label(name)} ${key === 'p99Ms' ? 'p99' : 'p50'}</text>`)
      legendY += 20
    }
  }
  svg.push('</svg>')
  return `${svg.join('\n')}\n`
}

export const DOCS_START = '<!-- latest-run:start (written by `npm run bench -- --write-docs`; do not edit by hand) -->'
export const DOCS_END = '<!-- latest-run:end -->'

/** Replaces what lies between the markers of docs/benchmarks.md with `section`. */
export function replaceLatest (doc: string, section: string): string {
  const start = doc.indexOf(DOCS_START)
  const end = doc.indexOf(DOCS_END)
  if (start === -1 || end === -1 || end < start) throw new Error('docs/benchmarks.md has no latest-run markers')
  return `${doc.slice(0, start + DOCS_START.length)}\n\n${section.trim()}\n\n${doc.slice(end)}`
}
