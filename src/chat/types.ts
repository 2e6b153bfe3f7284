import { randomUUID } from 'node:crypto'
import type { ChatServerToClientEvents } from '../client.js'
import type { ChatUser } from './profiles.js'
import type { StoredKind, StoredMessage } from './repository.js'

export type { ChatUser } from './profiles.js'
export type { ChatRoom, ChatMember, MemberRole, StoredKind } from './repository.js'

/** group (seed 001, SQL membership), channel (seed 004, open), code (seed 003, never stored). */
export type RoomKind = StoredKind | 'code'
export const ROOM_KINDS: readonly RoomKind[] = ['group', 'code', 'channel']

/** A room as the core addresses it: a UUID for groups and channels, the upper-cased code for code rooms. */
export interface RoomRef {
  kind: RoomKind
  id: string
}

/** The presence scope and the Socket.IO room of a chat room: `group:{id}`, `code:{CODE}`, `channel:{id}`. */
export const scopeOf = (ref: RoomRef): string => `${ref.kind}:${ref.id}`

/** The room of a scope, or null for another namespace's scope. */
export function parseScope (scope: string): RoomRef | null {
  const cut = scope.indexOf(':')
  if (cut < 0) return null
  const kind = scope.slice(0, cut) as RoomKind
  if (!ROOM_KINDS.includes(kind)) return null
  return { kind, id: scope.slice(cut + 1) }
}

/** Every socket of a user is in this Socket.IO room. */
export const userRoom = (userId: string): string => `user:${userId}`

/** A message of any kind of room; code-room messages have no seq and are never stored. */
export type ChatMessage = Omit<StoredMessage, 'roomId' | 'seq'> & {
  room: RoomRef
  seq: number | null
  /** Emoji → count, when read with the message (histories; issue 21). */
  reactions?: Record<string, number>
}

/** A user with at least one socket in a room. */
export interface OnlineUser extends ChatUser {
  sockets: number
}

/** Who a presenter's emission goes to: the socket concerned, the room, the room but the user's own sockets, everyone on `/`. */
export type RoomAudience = 'socket' | 'room' | 'others' | 'all'

/** An emission of `/` addressed relative to a room and a user (the delivery makes it absolute). */
export type RoomEmission = {
  [E in keyof ChatServerToClientEvents & string]: { to: RoomAudience, event: E, payload: Parameters<ChatServerToClientEvents[E]>[0] }
}[keyof ChatServerToClientEvents & string]

/** What a presenter may ask about the room it speaks for; computed at most once per event. */
export interface RoomView {
  ref: RoomRef
  online (): Promise<OnlineUser[]>
  /** Stored members (groups); 0 for other rooms. */
  memberCount (): Promise<number>
}

/** A code-room message (seed 003): never stored, so no seq, no client id, never edited. */
export function ephemeralMessage (room: RoomRef, m: Pick<ChatMessage, 'senderId' | 'senderName' | 'content' | 'type' | 'metadata'>): ChatMessage {
  // Field by field, not `...m`: V8 builds a spread object and then adds nine properties to it
  // at about 8 µs a message, this literal at 0.3 µs (issue 23; every code-room send makes one).
  return {
    senderId: m.senderId,
    senderName: m.senderName,
    content: m.content,
    type: m.type,
    metadata: m.metadata,
    id: randomUUID(),
    room,
    seq: null,
    replyToId: null,
    clientMessageId: null,
    createdAt: new Date(),
    version: 1,
    editedAt: null,
    deletedAt: null
  }
}
