import type { ChannelMessage, ChannelMessageType } from '../contract/chat.js'

/**
 * Seed 004's shapes, as the service API returns them. Seed code reads `user.username`,
 * `user.id`, `room.name`, `room.members.size`, `message.roomId`, `stats.totalConnections`...:
 * those fields are here with the seed's meaning.
 */

/** One connected socket of `/` (a browser tab), on any instance. */
export interface SocketUser {
  /** The user's id (seed code reads `user.id`); `userId` repeats it. */
  id: string
  userId: string
  socketId: string
  username: string
  displayName: string
  /** The instance holding the socket ('' when no longer known). */
  instanceId: string
  connectedAt: Date
  lastActivity: Date
}

/** A user with at least one socket on `/`, anywhere in the cluster. */
export interface ConnectedUser {
  id: string
  userId: string
  username: string
  displayName: string
  socketIds: string[]
  /** Their earliest socket's connection and their latest activity on any socket. */
  connectedAt: Date
  lastActivity: Date
}

/** A user present in a room, with how many of their sockets are in it. */
export interface RoomMember {
  id: string
  userId: string
  username: string
  displayName: string
  sockets: number
}

/** A seed-004 room: a chat-core channel (CONTRACT §6). */
export interface Room {
  id: string
  name: string
  namespace: string
  createdBy: string | null
  metadata: Record<string, unknown>
  createdAt: Date
  /** The last message, join or leave. */
  lastActivity: Date
  /** Ids of the users in the room now (seed code reads `room.members.size`). */
  members: Set<string>
}

export type MessageType = ChannelMessageType
export const MESSAGE_TYPES: readonly MessageType[] = ['text', 'image', 'file', 'system']

/** The `message` clients receive, plus the metadata the sender attached. */
export interface Message extends ChannelMessage {
  metadata: Record<string, unknown> | null
}

export interface BroadcastOptions {
  /** Socket ids that must not receive it (seed: `except: [senderSocketId]`). */
  except?: string[]
}

export interface ConnectionStats {
  /** Connections accepted since the cluster's store was created (every instance counts). */
  totalConnections: number
  /** Sockets connected to `/` now, on every instance. */
  activeConnections: number
  /** Distinct users among them. */
  onlineUsers: number
  totalRooms: number
  totalMessages: number
}

export interface RoomStats {
  roomId: string
  name: string
  /** Distinct users in the room now. */
  memberCount: number
  socketCount: number
  messageCount: number
  createdAt: Date
  lastActivity: Date
}

/** Seed 004's server-side events (EventEmitter). Each fires once, on the instance that handled it. */
export interface RealtimeEventMap {
  connection: [user: SocketUser]
  disconnect: [user: SocketUser, reason: string]
  message: [message: Message]
  'room:join': [event: { user: SocketUser, room: Room }]
  'room:leave': [event: { user: SocketUser, room: Room }]
}
