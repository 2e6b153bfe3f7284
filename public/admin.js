/* global fetch, sessionStorage, setInterval, clearInterval, document */
import { ApiError } from './net.js'
import { byId, el, onSubmit, say, sayError } from './dom.js'
import { bucketIncrease, drawChart, quantile, rate } from './ops-math.js'

// The operations page: GET /api/ops/overview every POLL_MS with the admin key (x-api-key) or an
// admin JWT (Bearer), charts of messages per second and p99 event latency, and the admin API's
// broadcast and disconnect (CONTRACT §7).

const POLL_MS = 2_000
const HISTORY = 60
const KEY_STORAGE = 'roomwire-ops-key'

let credential = null
let poller = null
/** Last snapshot per instance id, and the charts' series (oldest first). */
const previous = new Map()
const series = { messages: [], p99: [] }

const isJwt = (value) => value.split('.').length === 3
const authHeaders = () => (isJwt(credential) ? { authorization: `Bearer ${credential}` } : { 'x-api-key': credential })

async function call (path, { method = 'GET', body } = {}) {
  const headers = authHeaders()
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(new URL(path, document.baseURI), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const data = await res.json().catch(() => null)
  if (!res.ok) throw new ApiError(data?.code ?? `HTTP_${res.status}`, data?.message ?? res.statusText, res.status)
  return data
}

const sum = (records) => Object.values(records ?? {}).reduce((a, b) => a + b, 0)
const uptime = (ms) => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`)
/** Rate limiting of one instance's sockets: RATE_LIMITED answers and events dropped over budget. */
const limited = (s) => (s.counters.rateLimited === undefined && s.counters.overBudget === undefined ? '-' : (s.counters.rateLimited ?? 0) + (s.counters.overBudget ?? 0))
const push = (list, value) => { list.push(value); if (list.length > HISTORY) list.shift() }

/**
 * Instances seen since the page opened. One that left the registry (its liveness ran out and a
 * survivor swept it) stays listed as gone, with when it was last seen, instead of vanishing.
 */
const seen = new Map()

function instanceRows (overview) {
  const listed = new Set(overview.instances.map((i) => i.instanceId))
  for (const i of overview.instances) if (i.alive) seen.set(i.instanceId, { snapshot: i.snapshot, lastSeenAt: overview.at })
  const gone = [...seen].filter(([id]) => !listed.has(id))
    .map(([instanceId, last]) => ({ instanceId, alive: false, self: false, snapshot: null, lastSeenAt: last.lastSeenAt }))
  return [...overview.instances.map((i) => ({ ...i, lastSeenAt: seen.get(i.instanceId)?.lastSeenAt })), ...gone]
}

function liveness (alive, lastSeenAt) {
  if (alive) return [el('span', { class: 'dot online', title: 'alive' }), ' alive']
  const since = lastSeenAt === undefined ? '' : ` (last seen ${new Date(lastSeenAt).toLocaleTimeString()})`
  return [el('span', { class: 'dot offline', title: 'liveness expired' }), ` gone${since}`]
}

function renderInstances (overview) {
  byId('ops-instances').querySelector('tbody').replaceChildren(...instanceRows(overview).map(({ instanceId, alive, self, snapshot: s, lastSeenAt }) =>
    el('tr', { data: { instanceId, alive } },
      el('td', {}, el('code', { text: instanceId.slice(0, 8), title: instanceId }), self ? el('span', { class: 'you', text: ' (answering)' }) : ''),
      el('td', {}, ...liveness(alive, lastSeenAt)),
      el('td', { text: s ? uptime(overview.at - s.startedAt) : '-' }),
      el('td', { text: s ? sum(s.connections) : '-' }),
      el('td', { text: s ? sum(s.rooms) : '-' }),
      el('td', { text: s ? limited(s) : '-', title: 'events refused with RATE_LIMITED + events dropped over the inbound budget (WS_EVENT_RATE)' }),
      el('td', { text: s?.counters.slowConsumers ?? (s ? 'n/a' : '-') }))))
}

function renderTotals (overview, snapshots) {
  const total = (name) => snapshots.reduce((a, s) => a + (s.counters[name] ?? 0), 0)
  say(byId('ops-connections'), String(overview.stats.activeConnections))
  say(byId('ops-online-users'), String(overview.stats.onlineUsers))
  say(byId('ops-rate-limited'), String(total('rateLimited')))
  say(byId('ops-over-budget'), String(total('overBudget')))
  say(byId('ops-slow-consumers'), snapshots.some((s) => 'slowConsumers' in s.counters) ? String(total('slowConsumers')) : 'not measured by this server')
  say(byId('ops-errors'), String(total('errors')))
  const byNamespace = new Map()
  for (const s of snapshots) for (const [ns, n] of Object.entries(s.connections)) byNamespace.set(ns, (byNamespace.get(ns) ?? 0) + n)
  byId('ops-namespaces').replaceChildren(...[...byNamespace].map(([ns, n]) =>
    el('li', { data: { namespace: ns } }, el('code', { text: ns }), el('span', { class: 'meta', text: `${n} socket${n === 1 ? '' : 's'}` }))))
  byId('ops-rooms').replaceChildren(...overview.publicRooms.map((r) =>
    el('li', { data: { roomId: r.id } }, el('span', { text: r.name }), el('span', { class: 'meta', text: `${r.currentOccupancy}/${r.capacity}` }))))
  if (overview.publicRooms.length === 0) byId('ops-rooms').replaceChildren(el('li', { class: 'meta', text: 'No public rooms.' }))
}

function renderCharts (snapshots) {
  const pairs = snapshots.map((s) => [previous.get(s.instanceId), s])
  const messages = pairs.reduce((a, [before, after]) => a + rate(before, after, 'messagesReceived'), 0)
  const p99 = quantile(0.99, bucketIncrease(pairs.filter(([before]) => before)))
  for (const s of snapshots) previous.set(s.instanceId, s)
  push(series.messages, messages)
  push(series.p99, (p99 ?? 0) * 1000)
  say(byId('ops-messages-rate'), `${messages.toFixed(1)} /s`)
  say(byId('ops-p99'), p99 === null ? 'no events' : `${(p99 * 1000).toFixed(1)} ms`)
  drawChart(byId('ops-messages-chart'), series.messages)
  drawChart(byId('ops-p99-chart'), series.p99)
}

async function poll () {
  try {
    const overview = await call('api/ops/overview')
    const snapshots = overview.instances.filter((i) => i.alive && i.snapshot).map((i) => i.snapshot)
    renderInstances(overview)
    renderTotals(overview, snapshots)
    renderCharts(snapshots)
    byId('ops-view').hidden = false
    say(byId('ops-error'), '')
    say(byId('ops-status'), `${overview.instances.filter((i) => i.alive).length} instance(s) alive; updated ${new Date(overview.at).toLocaleTimeString()}`)
  } catch (err) {
    sayError(byId('ops-error'), err)
    if (err.status === 401 || err.status === 403) stop()
  }
}

function stop () {
  clearInterval(poller)
  poller = null
}

function start (value) {
  credential = value
  try { sessionStorage.setItem(KEY_STORAGE, value) } catch { /* storage refused: this page only */ }
  stop()
  poll()
  poller = setInterval(poll, POLL_MS)
}

onSubmit(byId('ops-auth-form'), () => start(byId('ops-key').value.trim()))

onSubmit(byId('ops-broadcast-form'), async () => {
  const status = byId('ops-action-status')
  try {
    await call('api/broadcast', { method: 'POST', body: { target: 'all', event: byId('ops-broadcast-event').value.trim(), data: { message: byId('ops-broadcast-text').value } } })
    say(status, 'Broadcast sent to every socket on /.')
  } catch (err) {
    sayError(status, err)
  }
})

onSubmit(byId('ops-disconnect-form'), async () => {
  const status = byId('ops-action-status')
  try {
    const { disconnected } = await call(`api/users/${encodeURIComponent(byId('ops-disconnect-user').value.trim())}/disconnect`, { method: 'POST', body: { reason: 'disconnected by an operator' } })
    say(status, `Disconnected ${disconnected} socket(s).`)
  } catch (err) {
    sayError(status, err)
  }
})

try {
  const saved = sessionStorage.getItem(KEY_STORAGE)
  if (saved) start(saved)
} catch { /* nothing saved */ }
document.documentElement.dataset.ready = 'true'
