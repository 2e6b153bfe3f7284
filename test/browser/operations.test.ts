import { existsSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { chromium, type Locator, type Page } from 'playwright-core'
import { ADMIN_API_KEY, connected, freshPostgresUrl, freshRedisPrefix, IP_HASH_SECRET, JWT_SECRET, servicesSkipReason } from '../helper.js'
import { startInstance } from '../cluster/fixtures/processes.js'
import { chat } from '../cluster/fixtures/clients.js'
import { instanceIdOf } from '../webhooks/process-fixtures.js'

/**
 * Issue 22's operations page (/admin) in Debian's Chromium, against real processes on one Redis
 * and PostgreSQL: a second instance appears on the page, a rate-limited socket on it is counted
 * (RATE_LIMITED answers and events dropped over the inbound budget), and an instance killed with
 * -9 stops being shown alive. Screenshots go to test/browser/artifacts/ (git-ignored).
 */
const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync']
const WAIT_MS = 30_000
const ARTIFACTS = new URL('./artifacts/', import.meta.url)

const tid = (page: Page, id: string): Locator => page.locator(`[data-testid="${id}"]`)
const shot = (page: Page, name: string) => page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true })
/** Waits until the page lists exactly `n` instances alive. */
async function aliveRows (page: Page, n: number): Promise<void> {
  // Polled from here: the page's CSP refuses the string evaluation waitForFunction would use.
  const rows = tid(page, 'ops-instances').locator('tbody tr[data-alive="true"]')
  const deadline = Date.now() + WAIT_MS
  while (await rows.count() !== n) {
    if (Date.now() > deadline) throw new Error(`the page did not list ${n} instance(s) alive (it lists ${await rows.count()})`)
    await page.waitForTimeout(100)
  }
}

const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} not found: the browser test needs Debian's chromium package (apt-get install chromium)`
  : servicesSkipReason()

t.test('the operations page shows a second instance appear, its rate-limited socket counted, and its death', { skip }, async (t) => {
  const env = {
    DATABASE_URL: await freshPostgresUrl(),
    REDIS_URL: process.env.REDIS_URL,
    REDIS_KEY_PREFIX: freshRedisPrefix(),
    JWT_SECRET,
    IP_HASH_SECRET,
    ADMIN_API_KEY,
    INSTANCE_TTL_MS: '1500',
    CHAT_MESSAGES_PER_MINUTE: '3',
    WS_EVENT_RATE: '5',
    WS_EVENT_BURST: '5'
  }
  const a = await startInstance(t, env)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  t.teardown(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } })
  const page = await context.newPage()
  page.setDefaultTimeout(WAIT_MS)
  const problems: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()) })
  page.on('pageerror', (err) => { problems.push(`pageerror: ${err.message}`) })
  await page.goto(`${a.url}/admin`)
  await page.locator('html[data-ready="true"]').waitFor()
  await tid(page, 'ops-key').fill(ADMIN_API_KEY)
  await tid(page, 'ops-connect').click()
  await aliveRows(page, 1)
  t.pass('one instance alive')
  await shot(page, 'operations-one-instance')

  const b = await startInstance(t, env)
  const bId = await instanceIdOf(b)
  const bRow = tid(page, 'ops-instances').locator(`tbody tr[data-instance-id="${bId}"]`)
  await aliveRows(page, 2)
  await bRow.and(page.locator('[data-alive="true"]')).waitFor()
  t.pass('the second instance appears, alive, without reloading the page')

  // On B: a fourth message in a minute (CHAT_MESSAGES_PER_MINUTE 3), then a burst over WS_EVENT_RATE.
  const socket = chat(t, b, 'flooder', 'Flooder')
  await connected(socket)
  const room = `OPS${randomUUID().slice(0, 6).toUpperCase()}`
  await socket.timeout(10_000).emitWithAck('join_room', room)
  const replies = []
  for (let i = 1; i <= 4; i++) replies.push(await socket.timeout(10_000).emitWithAck('send_message', { room, content: `message ${i}` }))
  t.match(replies[3], { ok: false, error: { code: 'RATE_LIMITED' } }, 'the fourth message is refused')
  for (let i = 0; i < 30; i++) socket.emit('typing_start', { room })
  await tid(page, 'ops-rate-limited').filter({ hasText: /^[1-9]/ }).waitFor()
  await tid(page, 'ops-over-budget').filter({ hasText: /^[1-9]/ }).waitFor()
  // The instance's column: its RATE_LIMITED answer plus the events it dropped over budget.
  await bRow.locator('td').nth(5).filter({ hasText: /^([2-9]|\d\d+)$/ }).waitFor()
  await tid(page, 'ops-namespaces').locator('li', { hasText: '/' }).first().waitFor()
  t.pass('the refused message and the dropped events counted, on the second instance\'s row and in the totals')
  await shot(page, 'operations-second-instance-rate-limited')

  b.child.kill('SIGKILL')
  await b.exited
  await aliveRows(page, 1)
  await bRow.and(page.locator('[data-alive="false"]')).filter({ hasText: /gone/ }).waitFor()
  // Its liveness ran out and the survivor swept it from the registry: the page still lists it.
  await page.waitForTimeout(3_000)
  await bRow.and(page.locator('[data-alive="false"]')).filter({ hasText: /gone \(last seen / }).waitFor()
  t.pass('the killed instance is shown gone, with when it was last seen, not dropped from the list')
  await shot(page, 'operations-instance-killed')
  t.same(problems.filter(p => !/Failed to load resource/.test(p)), [], 'no console error or uncaught exception')
})
