import t from 'tap'
import { runSoak } from '../../bench/soak.js'
import { freshPostgresUrl, freshRedisPrefix, fullRun, modes, servicesSkipReason, SHORT_RUN_NOTE } from '../helper.js'

const skip = servicesSkipReason()
if (skip) t.skip(skip, () => {})

/**
 * The short form of `npm run soak`: the same code (bench/soak.ts), a few hundred cycles per mode
 * with RW_TEST_FULL=1 (CI), 100 in a plain `npm test`. The warm-up stays 50: after 20 the heap
 * still grows (JIT, caches) and the heap check fails without a leak.
 */
const CYCLES = fullRun ? 250 : 100
if (!fullRun) t.comment(`soak: ${CYCLES} cycles, ${SHORT_RUN_NOTE}`)

for (const mode of modes()) {
  t.test(`${mode}: ${CYCLES} connect/join/send/leave/disconnect cycles leave nothing behind`, async (t) => {
    const lines: string[] = []
    const report = await runSoak({
      mode,
      cycles: CYCLES,
      concurrency: 6,
      warmup: 50,
      ...(mode === 'services'
        ? { databaseUrl: await freshPostgresUrl('soak'), redisUrl: process.env.REDIS_URL, redisKeyPrefix: freshRedisPrefix() }
        : {}),
      log: (line) => { lines.push(line) }
    })
    for (const line of lines.filter((l) => !/ cycles, /.test(l))) t.comment(line)

    t.same(report.errors, {}, 'every ack of every cycle succeeded')
    t.ok(report.heap.after <= report.heap.limit,
      `heap objects back near the baseline: ${report.heap.after} <= ${report.heap.baseline} + ${report.heap.limit - report.heap.baseline}`)
    t.same(report.keys.forbidden, [], 'no presence, typing, slot, seat or per-socket keys under the prefix')
    t.ok(report.keys.all.length > 0, 'the key scan sees the keys that do stay (instances, profiles, rooms)')
    t.same(report.resources.afterCycles, report.resources.beforeCycles, 'the same handles and timers after the cycles as before them')
    const { beforeApp, afterClose } = report.resources
    for (const [type, count] of Object.entries(afterClose)) {
      t.ok(count <= (beforeApp[type] ?? 0), `after close: ${count} ${type}, ${beforeApp[type] ?? 0} before the app`)
    }
    t.same(report.failures, [], 'the soak reports no failure')
  })
}
