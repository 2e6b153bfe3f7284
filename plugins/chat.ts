import fp from 'fastify-plugin'
import type { Server, Socket } from 'socket.io'
import type { Identity } from '../src/auth/identity.js'
import { createChat, type Chat } from '../src/chat/core.js'
import { createChatSocketEvents } from '../src/chat/events.js'
import { registerEventTable } from '../src/socket/event-table.js'
import type { ChatUser } from '../src/chat/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The chat core (CONTRACT §6): the service API and the REST routes are built on it. */
    chat: Chat
  }
}

// The core by its Socket.IO server: `chat` is not lifted onto a host app, and tests (or an
// embedding app that holds `app.io`) may still need to reach it.
const cores = new WeakMap<Server, Chat>()
export const chatOf = (io: Server): Chat | undefined => cores.get(io)

const chatUser = (identity: Identity): ChatUser => ({ id: identity.id, username: identity.username, displayName: identity.displayName })

/** CONTRACT §6: the default namespace `/`, groups (001), code rooms (003) and channels (004) side by side. */
export default fp(async (app) => {
  const config = app.realtimeConfig
  const { presenceHub } = app
  const nsp = app.io.of('/')
  const onError = (err: unknown) => { app.log.warn({ err }, 'chat background work failed') }
  const chat = createChat({
    database: app.sql,
    store: app.store,
    nsp,
    presence: app.presence,
    typing: app.typing,
    maxLength: config.chatMaxLength,
    onError
  })
  const events = createChatSocketEvents(chat, {
    sendLimiter: app.limiters.create('chat:messages', config.chatMessagesPerMinute, 60_000),
    onUnexpected: (err, event) => { app.log.error({ err, event }, 'chat event failed') }
  })
  registerEventTable(app.io, events.table)

  // One listener shared by every socket (Socket.IO calls it with the socket as `this`): a
  // connection costs no closure of its own for its cleanup.
  function disconnected (this: Socket, reason: string): void {
    const socket = this
    const user = events.userOf(socket)
    presenceHub.track(events.after(socket, () => chat.disconnect(socket.id, user, reason))).catch(onError)
  }

  nsp.use(app.realtimeAuth.socketMiddleware({ required: true }))
  nsp.on('connection', (socket) => {
    const user = chatUser(socket.data.identity as Identity)
    const ready = presenceHub.track(chat.connect(socket, user))
    ready.catch((err: unknown) => {
      app.log.error({ err }, 'chat connect failed')
      if (socket.connected) {
        socket.emit('error', { code: 'INTERNAL_ERROR', message: 'Could not register the connection' })
        socket.disconnect(true)
      }
    })
    events.bind(socket, user, ready)
    socket.on('disconnect', disconnected)
  })

  // An instance that crashed (swept by a survivor) or shut down: its users leave their rooms.
  presenceHub.onLeft((left) => { presenceHub.track(chat.usersGone(left)).catch(onError) })
  app.typing.onExpired((entry) => { presenceHub.track(chat.typingExpired(entry)).catch(onError) })

  app.decorate('chat', chat)
  cores.set(app.io, chat)
}, { name: 'chat', dependencies: ['config', 'db', 'store', 'socket-io', 'auth', 'rate-limit', 'presence'] })
