import { randomBytes } from 'node:crypto'
import { merge, summarize, type LatencySummary } from '../lib/hist.js'
import type { ServerHandle } from '../lib/proc.js'
import type { PublishResult, ServerKind, SocketSpec } from '../lib/types.js'
import { chatToken } from '../lib/tokens.js'
import { closeAll, connectAll, figure, post, runStep, start, type Context } from './common.js'
import type { ScenarioOutput } from './index.js'

/** A registered user (REST) and a group it owns: seed 001's `send_message` stores the message. */
export async function groupOf (url: string): Promise<{ token: string, groupId: string }> {
  const { token } = await post<{ token: string }>(`${url}/api/auth/register`, {
    username: `bench${randomBytes(4).toString('hex')}`, password: 'bench password 0123456789'
  })
  const { group } = await post<{ group: { id: string } }>(`${url}/api/groups`, { name: 'bench' }, token)
  return { token, groupId: group.id }
}

/** One socket sends at `ackRate` msg/s with an ack each; the round trips go in one histogram. */
async function ackRun (ctx: Context, kind: ServerKind, server: ServerHandle, spec: SocketSpec, vocabulary: 'code' | 'group'): Promise<LatencySummary> {
  await connectAll(ctx, kind, server.url, [spec], vocabulary)
  const step = await runStep(ctx, [server], ctx.sizes.ackRate, 0, { ack: true, durationMs: ctx.sizes.ackMs })
  await closeAll(ctx)
  const acked = step.publish.filter((p): p is PublishResult & { ackHistogram: string } => p.ackHistogram !== undefined)
  const summary = summarize(merge(acked.map(p => p.ackHistogram)))
  if (summary.count !== step.sent) throw new Error(`${kind}: ${step.sent} sent, ${summary.count} acked`)
  return summary
}

export async function sendAck (ctx: Context): Promise<ScenarioOutput> {
  const database = ctx.databaseUrl ? 'PostgreSQL' : 'PGlite (embedded; DATABASE_URL unset)'
  const roomwire = await start(ctx, 'roomwire', ctx.databaseUrl ? { DATABASE_URL: ctx.databaseUrl } : {})
  let stored: LatencySummary
  let ephemeral: LatencySummary
  try {
    ctx.progress.step(`roomwire on ${database}: group send_message with ack at ${ctx.sizes.ackRate} msg/s`)
    const { token, groupId } = await groupOf(roomwire.url)
    stored = await ackRun(ctx, 'roomwire', roomwire, { token, rooms: [groupId], publisher: true }, 'group')
    ctx.progress.step(`roomwire: code-room send_message with ack at ${ctx.sizes.ackRate} msg/s`)
    ephemeral = await ackRun(ctx, 'roomwire', roomwire, { token: chatToken('acker'), rooms: ['ACK'], publisher: true }, 'code')
  } finally {
    await closeAll(ctx)
    await roomwire.stop()
  }
  const bare = await start(ctx, 'bare-socketio')
  let baseline: LatencySummary
  try {
    ctx.progress.step(`bare Socket.IO: send_message with ack at ${ctx.sizes.ackRate} msg/s`)
    baseline = await ackRun(ctx, 'bare-socketio', bare, { rooms: ['ACK'], publisher: true }, 'code')
  } finally {
    await closeAll(ctx)
    await bare.stop()
  }
  const fig = (key: 'p50Ms' | 'p99Ms', label: string) => figure(`ack.${key}`, label, 'ms', 'lower',
    ['roomwire (group, stored)', stored[key]], [['roomwire (code room, not stored)', ephemeral[key]], ['bare-socketio', baseline[key]]])
  return {
    details: [
      `database: ${database}`,
      `one socket, ${ctx.sizes.ackRate} msg/s for ${ctx.sizes.ackMs / 1000} s (${stored.count} messages), ack round trip measured by the sender; the baselines store nothing`
    ],
    figures: [fig('p50Ms', 'ack p50'), fig('p99Ms', 'ack p99')]
  }
}
