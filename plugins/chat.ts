import fp from 'fastify-plugin'
import type { Server } from 'socket.io'
import { createChatService, type Chat } from '../src/chat/service.js'
import { chatSocketPort, createChatNamespace } from '../src/chat/namespace.js'
import { createTyping, type Typing } from '../src/chat/typing.js'
import { registerEventTable } from '../src/socket/events.js'
import { limiterNames } from '../src/store/keys.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The chat service (CONTRACT §6): the service API and the REST routes are built on it. */
    chat: Chat
    /** Typing indicators of `/`, shared by all instances. */
    typing: Typing
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
  const chat = createChatService({
    database: app.sql,
    store: app.store,
    sockets: chatSocketPort(nsp),
    presence: app.presence,
    typing,
    maxLength: config.chatMaxLength,
    onError
  })
  const namespace = createChatNamespace(nsp, chat, {
    sendLimiter: app.limiters.create(limiterNames.chatMessages, config.chatMessagesPerMinute, 60_000),
    track: presenceHub.track,
    onError,
    onConnectFailed: (err) => { app.log.error({ err }, 'chat connect failed') },
    onUnexpected: (err, event) => { app.log.error({ err, event }, 'chat event failed') }
  })
  registerEventTable(app.io, namespace.table)
  nsp.use(app.realtimeAuth.socketMiddleware({ required: true }))
  namespace.listen()

  // An instance that crashed (swept by a survivor) or shut down: its users leave their rooms.
  presenceHub.onLeft((left) => { presenceHub.track(chat.usersGone(left)).catch(onError) })
  typing.onExpired((entry) => { presenceHub.track(chat.typingExpired(entry)).catch(onError) })
  typing.start()

  app.decorate('chat', chat)
  app.decorate('typing', typing)
  services.set(app.io, chat)
  app.addHook('onClose', async () => { await typing.close() })
}, { name: 'chat', dependencies: ['config', 'db', 'redis', 'socket-io', 'auth', 'rate-limit', 'presence'] })
