import { AppError } from '../errors.js'
import type { UserService } from '../auth/users.js'
import type { Chat } from '../chat/service.js'
import type { ChatMessage, ChatUser } from '../chat/types.js'
import { channelMessage } from '../chat/vocabularies/wire.js'
import type { Presence } from '../presence/service.js'
import type { ConnectionRegistry, LiveSocket } from './registry.js'
import type { RoomViews } from './rooms.js'
import type { ServiceApiSocketPort } from './socket-port.js'
import type { Message, SocketUser } from './types.js'

/** What every part of the service API works with (built once by service.ts). */
export interface ServiceApiContext {
  chat: Chat
  presence: Presence
  registry: ConnectionRegistry
  rooms: RoomViews
  users: Pick<UserService, 'byId'>
  sockets: ServiceApiSocketPort
  now: () => number
  metadataMaxBytes: number
}

export const socketNotFound = () => new AppError('SOCKET_NOT_FOUND', 'No such connected socket', 404)
export const invalid = (message: string) => new AppError('INVALID_REQUEST', message)

export function toSocketUser (s: LiveSocket): SocketUser {
  return {
    id: s.userId,
    userId: s.userId,
    socketId: s.socketId,
    username: s.username,
    displayName: s.displayName,
    instanceId: s.instanceId,
    connectedAt: new Date(s.connectedAt),
    lastActivity: new Date(s.lastActivity)
  }
}

export const toMessage = (m: ChatMessage): Message => ({ ...channelMessage(m), metadata: m.metadata })

/** The connected socket, on any instance, or SOCKET_NOT_FOUND. */
export async function liveSocket ({ registry }: ServiceApiContext, socketId: string): Promise<LiveSocket> {
  if (typeof socketId !== 'string' || socketId === '') throw socketNotFound()
  const entry = await registry.get(socketId)
  if (!entry) throw socketNotFound()
  return entry
}

export async function userSockets ({ registry, presence }: ServiceApiContext, userId: string): Promise<LiveSocket[]> {
  return await registry.pick(await presence.socketsOf(userId))
}

/** Who a server-side user id is: a registered user, else the profile their token gave. */
export async function chatUserOf ({ users, chat }: ServiceApiContext, userId: string): Promise<ChatUser> {
  const registered = await users.byId(userId)
  if (registered) return { id: registered.id, username: registered.username, displayName: registered.displayName }
  return await chat.profiles.get(userId)
}
