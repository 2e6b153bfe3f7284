import { existsSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { buildTestApp, modes } from '../helper.js'

/**
 * The demo page (public/, plugins/demo.ts) driven in Debian's Chromium: two pages chat in one
 * group (messages, typing, presence), markup in a message stays text, a watch party stays in
 * sync, and a public room shows its live occupancy. Waits are Playwright's auto-waiting
 * locators, never sleeps.
 */

const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'
]
const WAIT_MS = 20_000
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> & "quotes"'

const tid = (page: Page, id: string): Locator => page.locator(`[data-testid="${id}"]`)
const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
const unique = (name: string) => `${name}_${randomBytes(3).toString('hex')}`

/** Waits until the element's whole text is `text` (or matches it). */
async function shows (page: Page, id: string, text: string | RegExp): Promise<void> {
  await tid(page, id).filter({ hasText: typeof text === 'string' ? exactly(text) : text }).waitFor()
}

/** Waits until the list holds an item containing `text` (or none, with `gone`). */
async function listed (page: Page, id: string, text: string, gone = false): Promise<void> {
  await tid(page, id).locator('li', { hasText: text }).first().waitFor({ state: gone ? 'detached' : 'visible' })
}

/** m:ss.s → seconds. */
function seconds (timer: string): number {
  const [minutes, rest] = timer.split(':')
  return Number(minutes) * 60 + Number(rest)
}

async function textOf (page: Page, id: string): Promise<string> {
  return (await tid(page, id).textContent()) ?? ''
}

async function register (page: Page, displayName: string): Promise<string> {
  await tid(page, 'auth-username').fill(unique(displayName.toLowerCase()))
  await tid(page, 'auth-password').fill('correct horse battery')
  await tid(page, 'auth-display-name').fill(displayName)
  await tid(page, 'auth-register').click()
  await shows(page, 'auth-user-id', /^[0-9a-f-]{8,}$/i)
  return await textOf(page, 'auth-user-id')
}

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: the browser test needs Debian's chromium package`

t.test('demo page in Chromium', { skip }, async (t) => {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  t.teardown(() => browser.close())

  for (const mode of modes()) {
    t.test(mode, async (t) => {
      const { url } = await buildTestApp(t, { mode, listen: true })
      /** Console errors, CSP reports and uncaught exceptions of every page: there must be none. */
      const problems: string[] = []

      async function open (name: string): Promise<Page> {
        const context = await browser.newContext()
        t.teardown(() => context.close())
        const page = await context.newPage()
        page.setDefaultTimeout(WAIT_MS)
        page.on('console', (message) => {
          if (message.type() === 'error' || /Content.Security.Policy/i.test(message.text())) problems.push(`${name} console ${message.type()}: ${message.text()}`)
        })
        page.on('pageerror', (err) => { problems.push(`${name} pageerror: ${err.message}`) })
        const response = await page.goto(`${url}/`)
        t.equal(response?.status(), 200, `${name}: GET / serves the page`)
        const csp = response?.headers()['content-security-policy'] ?? ''
        t.match(csp, /script-src 'self'(;|$)/, `${name}: scripts from this origin only`)
        t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${name}: no inline script or eval allowed`)
        await page.locator('html[data-ready="true"]').waitFor()
        return page
      }

      const alice = await open('alice')
      const bob = await open('bob')
      await register(alice, 'Alice')
      const bobId = await register(bob, 'Bob')

      await t.test('two pages chat in one group: messages, typing and presence', async (t) => {
        await shows(alice, 'chat-status', /Connected as Alice \(websocket\)/)
        await tid(alice, 'chat-group-name').fill('Demo group')
        await tid(alice, 'chat-create').click()
        await shows(alice, 'chat-current', 'Demo group')
        const groupId = await textOf(alice, 'chat-current-id')
        await tid(alice, 'chat-member').fill(bobId)
        await tid(alice, 'chat-add-member').click()
        await shows(alice, 'chat-status', /Bob is a member now/)

        await shows(bob, 'chat-status', /Connected as Bob \(websocket\)/)
        await tid(bob, 'chat-group-id').fill(groupId)
        await tid(bob, 'chat-join').click()
        await shows(bob, 'chat-current', 'Demo group')
        await listed(alice, 'chat-online', 'Bob')
        await listed(bob, 'chat-online', 'Alice')
        t.pass('each page lists the other as online')

        await tid(bob, 'chat-input').pressSequentially('hello Al')
        await shows(alice, 'chat-typing', 'Bob is typing…')
        t.equal(await textOf(bob, 'chat-typing'), '', 'nobody is shown typing to themselves')
        await tid(bob, 'chat-input').pressSequentially('ice')
        await tid(bob, 'chat-send').click()
        await tid(alice, 'chat-messages').locator('.content', { hasText: exactly('hello Alice') }).waitFor()
        await shows(alice, 'chat-typing', /^$/)
        t.pass('Alice sees Bob typing, then his message, and the indicator clears')

        await tid(alice, 'chat-input').pressSequentially('hi Bob')
        await shows(bob, 'chat-typing', 'Alice is typing…')
        await tid(alice, 'chat-input').press('Enter')
        await tid(bob, 'chat-messages').locator('.content', { hasText: exactly('hi Bob') }).waitFor()
        await shows(bob, 'chat-typing', /^$/)
        t.pass('Bob sees Alice typing, then her message')
        t.same(await tid(bob, 'chat-messages').locator('.sender').allTextContents(), ['Bob', 'Alice'], 'messages in order, with their senders')
      })

      await t.test('markup in a message is shown as text and runs nothing', async (t) => {
        await tid(alice, 'chat-input').fill(XSS)
        await tid(alice, 'chat-send').click()
        // A message sent after it: once Bob has it, the first was rendered (and any handler had its chance).
        await tid(alice, 'chat-input').fill('after')
        await tid(alice, 'chat-send').click()
        for (const page of [bob, alice]) {
          await tid(page, 'chat-messages').locator('.content', { hasText: exactly('after') }).waitFor()
          const contents = await tid(page, 'chat-messages').locator('.content').allTextContents()
          t.ok(contents.includes(XSS), 'the markup is the message text, character for character')
          t.equal(await tid(page, 'chat-messages').locator('img, script').count(), 0, 'no img or script element in the message list')
          t.equal(await page.evaluate('typeof window.__xss'), 'undefined', 'no handler or script ran')
        }
      })

      await t.test('signing out takes Bob off the online list', async (t) => {
        await tid(bob, 'auth-logout').click()
        await shows(bob, 'chat-status', 'Sign in to chat.')
        await listed(alice, 'chat-online', 'Bob', true)
        t.pass('Alice no longer sees Bob online')
      })

      await t.test('two pages in one watch party stay in sync on play, pause and seek', async (t) => {
        await tid(alice, 'sync-room-name').fill('Movie night')
        await tid(alice, 'sync-create').click()
        await shows(alice, 'sync-room', 'Movie night')
        const code = await textOf(alice, 'sync-room-code')
        t.match(code, /^[A-HJ-NP-Z2-9]{8}$/, 'an 8-character room code')

        // Bob is signed out now: he joins as a guest.
        await tid(bob, 'sync-code').fill(code.toLowerCase())
        await tid(bob, 'sync-guest-name').fill('Guest Bob')
        await tid(bob, 'sync-join').click()
        await shows(bob, 'sync-room-code', code)
        await listed(alice, 'sync-participants', 'Guest Bob')
        await listed(bob, 'sync-participants', 'Alice')
        for (const page of [alice, bob]) {
          await shows(page, 'sync-state', 'paused')
          await shows(page, 'sync-timer', '0:00.0')
        }

        await tid(alice, 'sync-play').click()
        for (const page of [alice, bob]) {
          await shows(page, 'sync-state', 'playing')
          await tid(page, 'sync-timer').filter({ hasNotText: '0:00.0' }).waitFor()
        }
        t.pass('Alice presses play: both timers run')

        await tid(bob, 'sync-pause').click()
        for (const page of [alice, bob]) await shows(page, 'sync-state', 'paused')
        const paused = await textOf(alice, 'sync-timer')
        t.equal(await textOf(bob, 'sync-timer'), paused, `Bob pauses: both stop at ${paused}`)

        await tid(alice, 'sync-seek-input').fill('42')
        await tid(alice, 'sync-seek').click()
        for (const page of [alice, bob]) await shows(page, 'sync-timer', '0:42.0')
        t.pass('Alice seeks to 42 s: both timers show 0:42.0')

        await tid(bob, 'sync-play').click()
        for (const page of [alice, bob]) {
          await shows(page, 'sync-state', 'playing')
          await tid(page, 'sync-timer').filter({ hasNotText: '0:42.0' }).waitFor()
        }
        await tid(alice, 'sync-pause').click()
        for (const page of [alice, bob]) await shows(page, 'sync-state', 'paused')
        const resumed = await textOf(bob, 'sync-timer')
        t.equal(await textOf(alice, 'sync-timer'), resumed, `played on from 42 s and paused together at ${resumed}`)
        t.ok(seconds(resumed) > 42, 'from where the seek left it')
      })

      await t.test('the public room panel shows live occupancy and participants', async (t) => {
        await tid(alice, 'public-room-name').fill('Lobby')
        await tid(alice, 'public-create').click()
        await shows(alice, 'public-status', /Created "Lobby"/)
        const roomId = await tid(alice, 'public-room-id').inputValue()
        await tid(alice, 'public-join').click()
        await shows(alice, 'public-current', 'Lobby')
        await shows(alice, 'public-occupancy', '1')
        await listed(alice, 'public-participants', 'Alice')

        await tid(bob, 'public-refresh').click()
        await listed(bob, 'public-rooms', 'Lobby')
        await tid(bob, 'public-room-id').fill(roomId)
        await tid(bob, 'public-name').fill('Bob in the lobby')
        await tid(bob, 'public-join').click()
        await shows(bob, 'public-occupancy', '2')
        await shows(alice, 'public-occupancy', '2')
        await listed(alice, 'public-participants', 'Bob in the lobby')
        t.pass('Bob joins: both pages show occupancy 2, Alice sees him arrive')

        await tid(bob, 'public-leave').click()
        await shows(alice, 'public-occupancy', '1')
        await listed(alice, 'public-participants', 'Bob in the lobby', true)
        t.pass('Bob leaves: Alice sees occupancy 1 and his name gone')
      })

      t.same(problems, [], 'no console error, CSP violation or uncaught exception on either page')

      await t.test('the CSP is a second guard: an inline handler that reached the DOM does not run', async (t) => {
        const context = await browser.newContext()
        t.teardown(() => context.close())
        const page = await context.newPage()
        await page.goto(`${url}/`)
        await page.locator('html[data-ready="true"]').waitFor({ timeout: WAIT_MS })
        const violation = page.waitForEvent('console', { predicate: (m) => /Content Security Policy/.test(m.text()), timeout: WAIT_MS })
        // What a rendering bug would do (the page itself never parses user text as HTML).
        await page.evaluate('document.body.insertAdjacentHTML(\'beforeend\', \'<img src="x" onerror="window.__xss=1">\')')
        t.match((await violation).text(), /inline event handler/, 'Chromium refuses the handler and says why')
        t.equal(await page.evaluate('typeof window.__xss'), 'undefined', 'the handler did not run')
      })
    })
  }
})
