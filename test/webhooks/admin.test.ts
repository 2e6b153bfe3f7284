import t from 'tap'
import { ADMIN_API_KEY, buildTestApp, modes } from '../helper.js'
import { fastWebhooks, newRoom, SECRET, startReceiver, verify, webhookApp } from './fixtures.js'
import { envEndpoints } from '../../src/webhooks/endpoints.js'
import { retryDelay } from '../../src/webhooks/sender.js'
import { isWebhookSecret, signWebhook } from '../../src/webhooks/signature.js'
import { Webhook } from 'standardwebhooks'

const headers = { 'x-api-key': ADMIN_API_KEY }

t.test('signing matches the standardwebhooks library; secrets and env endpoints are checked', async (t) => {
  const body = '{"time_ms":1,"events":[]}'
  const signed = signWebhook(SECRET, 'msg_1', 1_700_000_000, body)
  t.equal(signed['webhook-signature'], new Webhook(SECRET).sign('msg_1', new Date(1_700_000_000_000), body))
  t.ok(isWebhookSecret(SECRET))
  t.notOk(isWebhookSecret('whsec_c2hvcnQ='), 'too short a key')
  t.throws(() => envEndpoints({ webhookUrls: 'http://a.example/h', webhookEvents: '' }), /WEBHOOK_SECRET/)
  t.throws(() => envEndpoints({ webhookUrls: 'ftp://a.example/h', webhookSecret: SECRET, webhookEvents: '' }), /WEBHOOK_URLS/)
  t.throws(() => envEndpoints({ webhookUrls: 'http://a.example/h', webhookSecret: SECRET, webhookEvents: 'room.opened' }), /WEBHOOK_EVENTS/)
  const [a, b] = envEndpoints({ webhookUrls: 'http://a.example/h, http://b.example/h', webhookSecret: SECRET, webhookEvents: 'room.occupied' })
  t.match(a, { url: 'http://a.example/h', events: ['room.occupied'], source: 'env' })
  t.not(a.id, b.id)
  t.equal(envEndpoints({ webhookUrls: 'http://a.example/h', webhookSecret: SECRET, webhookEvents: '' })[0].id, a.id, 'an id that survives restarts')
  for (let attempt = 1; attempt <= 12; attempt++) {
    const step = Math.min(1_000, 10 * 2 ** (attempt - 1))
    const delay = retryDelay(attempt, 10, 1_000)
    t.ok(delay >= step / 2 && delay <= step, `attempt ${attempt}: ${delay} ms within [${step / 2}, ${step}]`)
  }
})

for (const mode of modes()) {
  t.test(`${mode}: admin REST adds, lists and removes endpoints; each gets what its filter lets through`, async (t) => {
    const fromEnv = await startReceiver(t)
    const fromApi = await startReceiver(t)
    const { app } = await webhookApp(t, mode, [fromEnv.url], { env: { WEBHOOK_EVENTS: 'room.occupied,room.vacated' } })
    t.equal((await app.inject({ method: 'GET', url: '/api/webhooks' })).statusCode, 401, 'admin only')
    const bad = await app.inject({ method: 'POST', url: '/api/webhooks', headers, payload: { url: fromApi.url, events: ['nope'] } })
    t.equal(bad.statusCode, 400)
    const created = await app.inject({ method: 'POST', url: '/api/webhooks', headers, payload: { url: fromApi.url, events: ['member.added'] } })
    t.equal(created.statusCode, 201)
    const { webhook } = created.json()
    t.match(webhook, { id: String, url: fromApi.url, events: ['member.added'], source: 'api', secret: /^whsec_/ })

    const listed = (await app.inject({ url: '/api/webhooks', headers })).json().webhooks
    t.same(listed.map((w: { source: string }) => w.source), ['env', 'api'])
    t.notOk('secret' in listed[1], 'secrets are shown only on creation')

    const room = newRoom('public')
    await app.webhooks.enqueue([{ type: 'room.occupied', room }, { type: 'member.added', room, userId: 'u1' }, { type: 'room.vacated', room }])
    const ours = new Set([room.id])
    await fromEnv.until(() => fromEnv.events(ours).length >= 2, 'the env endpoint')
    await fromApi.until(() => fromApi.events(ours).length >= 1, 'the api endpoint')
    t.same(fromEnv.events(ours).map(e => e.type), ['room.occupied', 'room.vacated'])
    t.same(fromApi.events(ours).map(e => e.type), ['member.added'])
    t.ok(verify(fromApi.accepted[0], webhook.secret), "signed with the endpoint's own secret")

    t.equal((await app.inject({ method: 'DELETE', url: `/api/webhooks/${webhook.id}`, headers })).statusCode, 204)
    t.equal((await app.inject({ method: 'DELETE', url: `/api/webhooks/${webhook.id}`, headers })).statusCode, 404)
    t.equal((await app.inject({ method: 'DELETE', url: `/api/webhooks/${listed[0].id}`, headers })).statusCode, 404, 'env endpoints stay')
  })

  t.test(`${mode}: deliveries are listed with their status, dead-lettered after N attempts, and redelivered under the same id`, async (t) => {
    const receiver = await startReceiver(t, 'down')
    const { app } = await webhookApp(t, mode, [receiver.url], { webhookMaxAttempts: 3 })
    const room = newRoom('code')
    const [event] = await app.webhooks.enqueue([{ type: 'user.online', room, userId: 'u9' }])
    let failed: Record<string, any> | undefined
    await receiver.until(() => receiver.requests() >= 3, 'three attempts')
    for (let i = 0; i < 50 && !failed; i++) {
      const { deliveries } = (await app.inject({ url: '/api/webhooks/deliveries?status=failed', headers })).json()
      failed = deliveries.find((d: { eventIds: string[] }) => d.eventIds.includes(event.id))
      if (!failed) await new Promise(resolve => setTimeout(resolve, 50))
    }
    t.match(failed, { id: /^msg_/, status: 'failed', attempts: 3, lastStatus: 503, lastError: 'HTTP 503', deliveredAt: null })
    t.equal(receiver.requests(), 3, 'no attempt after the last')
    t.match((await app.inject('/metrics')).body, /roomwire_webhook_deliveries_failed_total [1-9]/)

    receiver.behaviour = 'ok'
    const again = await app.inject({ method: 'POST', url: `/api/webhooks/deliveries/${failed!.id}/redeliver`, headers })
    t.equal(again.statusCode, 202)
    t.match(again.json().delivery, { id: failed!.id, status: 'pending', attempts: 0 })
    await receiver.until(() => receiver.accepted.length >= 1, 'the redelivery')
    t.equal(receiver.accepted[0].id, failed!.id, 'the same webhook-id')
    t.same(receiver.accepted[0].payload.events, [event])
    const missing = await app.inject({ method: 'POST', url: '/api/webhooks/deliveries/msg_nope/redeliver', headers })
    t.equal(missing.statusCode, 404)
    t.equal(missing.json().code, 'DELIVERY_NOT_FOUND')
  })
}

t.test('WEBHOOK_URLS without WEBHOOK_SECRET stops the app at start', async (t) => {
  await t.rejects(buildTestApp(t, { listen: false, env: { WEBHOOK_URLS: 'http://127.0.0.1:9/hook' }, ...fastWebhooks }), /WEBHOOK_SECRET/)
})
