import fp from 'fastify-plugin'
import type { Server } from 'socket.io'
import type { ChatServerToClientEvents } from '../src/client.js'
import { createChatService, type Chat } from '../src/chat/service.js'
import { chatOutboxOptions, chatSocketPort, defineChatNamespace } from '../src/chat/namespace.js'
import { createTyping, type Typing } from '../src/chat/typing.js'
import { createCoalescer } from '../src/presence/coalesce.js'
import { createOutbox } from '../src/socket/outbox.js'
import { limiterNames } from '../src/store/keys.js'
import { createReads, type Reads } from '../src/chat/reads.js'
import { createChatModeration } from '../src/chat/moderation.js'
import { createMessageEdits } from '../src/chat/edits.js'
import { createReactions } from '../src/chat/reactions.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The chat service (CONTRACT §6): the service API and the REST routes are built on it. */
    chat: Chat
    /** Typing indicators of `/`, shared by all instances. */
    typing: Typing
    /** Read receipts of groups and channels (issue 21). */
    chatReads: Reads
  }
}

export interface ChatPluginOptions {
  /** How often expired typing indicators are swept (default TYPING_TTL_MS / 10). */
  typingSweepMs?: number
}

// The service by its Socket.IO server: `chat` is not lifted onto a host app, and tests (or an
// embedding app that holds `app.io`) may still need to reach it.
const services = new WeakMap<Server, Chat>()
export const chatOf = (io: Server): Chat | undefined => services.get(io)

/** CONTRACT §6: the default namespace `/`, groups (001), code rooms (003) and channels (004) side by side. */
export default fp<ChatPluginOptions>(async (app, opts) => {
  const config = app.realtimeConfig
  const { presenceHub } = app
  const nsp = app.io.of('/')
  const onError = (err: unknown) => { app.log.warn({ err }, 'chat background work failed') }
  const typing = createTyping({ store: app.store, ttlMs: config.typingTtlMs, throttleMs: config.typingThrottleMs, sweepIntervalMs: opts.typingSweepMs, onError })
  const coalescer = createCoalescer({
    intervalMs: config.presenceCoalesceMs, onError, track: (work) => { presenceHub.track(work).catch(() => {}) }
  })
  const outbox = createOutbox<ChatServerToClientEvents>(nsp, chatOutboxOptions)
  const chat = createChatService({
    database: app.sql,
    store: app.store,
    sockets: chatSocketPort(outbox),
    presence: app.presence,
    watchers: app.watchers,
    coalescer,
    typing,
    maxLength: config.chatMaxLength,
    roomEvents: app.roomEvents,
    onError
  })
  const reads = createReads({ chat, db: app.sql.db, coalescer })
  const reactionsCoalescer = createCoalescer({
    intervalMs: config.chatReactionsCoalesceMs, onError, track: (work) => { presenceHub.track(work).catch(() => {}) }
  })
  nsp.use(app.realtimeAuth.socketMiddleware({ required: true }))
  defineChatNamespace(nsp, chat, {
    sendLimiter: app.limiters.create(limiterNames.chatMessages, config.chatMessagesPerMinute, 60_000),
    watchers: app.watchers,
    track: (work) => { presenceHub.track(work).catch(() => {}) },
    log: app.log,
    historyReplayMax: config.historyReplayMax,
    reads,
    moderation: createChatModeration({ chat, moderation: app.moderation, deliver: (emissions) => outbox.deliver(emissions) }),
    edits: createMessageEdits({ chat, maxLength: config.chatMaxLength, roomEvents: app.roomEvents, onError }),
    reactions: createReactions({ chat, maxDistinct: config.chatReactionsMax, coalescer: reactionsCoalescer, onError })
  })

  // An instance that crashed (swept by a survivor) or shut down: its users leave their rooms.
  presenceHub.onLeft((left, _reason, offline) => { presenceHub.track(chat.usersGone(left, offline)).catch(onError) })
  typing.onExpired((entry) => { presenceHub.track(chat.typingExpired(entry)).catch(onError) })
  typing.start()

  app.decorate('chat', chat)
  app.decorate('typing', typing)
  app.decorate('chatReads', reads)
  services.set(app.io, chat)
  app.addHook('onClose', async () => {
    await coalescer.close()
    await reactionsCoalescer.close()
    await typing.close()
  })
}, { name: 'chat', dependencies: ['config', 'db', 'store', 'socket-io', 'auth', 'rate-limit', 'presence', 'room-events', 'moderation'] })
