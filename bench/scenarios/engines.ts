import { createRequire } from 'node:module'
import { repeatedFigure, specs, type Context } from './common.js'
import { interleavedSteps, pickAll, type Arm } from './fanout.js'
import type { ScenarioOutput } from './index.js'

const require = createRequire(import.meta.url)

/** Whether `ws` (Socket.IO's default engine) would load bufferutil: resolvable from here (node_modules or NODE_PATH). */
export function bufferutilMissing (): string | false {
  try {
    require.resolve('bufferutil')
    return false
  } catch {
    return 'bufferutil is not installed (`npm install --no-save bufferutil`, or NODE_PATH to a folder that has it): nothing to compare'
  }
}

// ws reads WS_NO_BUFFER_UTIL when it loads: set, it masks and unmasks in JavaScript.
const PLAIN = { WS_NO_BUFFER_UTIL: '1' }

/**
 * WebSocket engines (issue 23): roomwire on Socket.IO's default engine, `ws`, with its native
 * helper bufferutil against the same without it, and bare Socket.IO on its default (no native
 * helper), all up at once, interleaved. utf-8-validate is not compared: ws 8 on Node ≥ 18.14
 * validates with buffer.isUtf8 and never loads it. eiows is not compared: its install builds
 * against a clone of Node's source fetched from GitHub (see docs/benchmarks.md).
 */
export async function engines (ctx: Context): Promise<ScenarioOutput> {
  const arms: Arm[] = [
    { name: 'roomwire-bufferutil', kind: 'roomwire' },
    { name: 'roomwire', kind: 'roomwire', env: PLAIN },
    { name: 'bare-socketio', kind: 'bare-socketio', env: PLAIN }
  ]
  const { rooms, roomRate, reps, cpuStepMs, fanoutSubscribers: n, fanoutUsers: users, fanoutCpuRate } = ctx.sizes
  const many = await interleavedSteps(ctx, arms, (kind) => specs(kind, rooms * 10, (i) => ({
    user: `r${i % rooms}-m${Math.floor(i / rooms)}`, rooms: [`R${i % rooms}`], publisher: i < rooms, record: true
  })), roomRate, 10, `engines: ${rooms} rooms of 10`)
  const fan = await interleavedSteps(ctx, arms, (kind) => [
    ...specs(kind, 1, () => ({ user: 'publisher', rooms: ['FANOUT'], publisher: true })),
    ...specs(kind, n, (i) => ({ user: `subscriber-${i % users}`, rooms: ['FANOUT'], record: true }))
  ], fanoutCpuRate, n, `engines: fan-out to ${n}`)
  const cpu = (key: string, label: string, steps: typeof many) => repeatedFigure(key, label, 'deliveries/CPU-s', 'higher',
    ['roomwire-bufferutil', pickAll(steps['roomwire-bufferutil'], 'deliveriesPerServerCpuSecond')],
    [['roomwire', pickAll(steps.roomwire, 'deliveriesPerServerCpuSecond')], ['bare-socketio', pickAll(steps['bare-socketio'], 'deliveriesPerServerCpuSecond')]])
  return {
    details: [
      'roomwire with bufferutil (ws masks and unmasks natively: the frames clients send) against roomwire and bare Socket.IO with `WS_NO_BUFFER_UTIL=1` (ws in JavaScript, its default without optional helpers)',
      `all three up at once, ${reps} interleaved repetitions of ${cpuStepMs / 1000} s: ${rooms} rooms of 10 at ${roomRate} msg/s each, then one room of ${n} at ${fanoutCpuRate} msg/s`,
      'not compared: utf-8-validate (ws 8 on Node ≥ 18.14 uses buffer.isUtf8 and never loads it), eiows (does not build here: see docs/benchmarks.md)'
    ],
    figures: [
      cpu('engines.rooms.cpu', 'many rooms of 10: deliveries per server CPU-second', many),
      cpu('engines.fanout.cpu', `fan-out to ${n}: deliveries per server CPU-second`, fan)
    ]
  }
}
