import type { ChatUser } from './profiles.js'
import type { ChatMessage, RoomRef } from './types.js'
import type { StoredMessage } from './repository.js'
import type { RoomEvent } from '../services/room-events.js'

/**
 * The chat's lifecycle events: what happened on this instance, for the service API (seed 004's `connection, disconnect,
 * message, room:join, room:leave`). Each event fires once, on the instance that handled it.
 */
export interface ChatLifecycleEventMap {
  connection: { user: ChatUser, socketId: string, firstSocket: boolean }
  disconnect: { user: ChatUser, socketId: string, reason: string, lastSocket: boolean }
  message: ChatMessage
  'room:join': { room: RoomRef, user: ChatUser, socketId: string, first: boolean }
  /** socketId null: not by a socket event; last: the user's last socket left the room. */
  'room:leave': { room: RoomRef, user: ChatUser, socketId: string | null, last: boolean }
}

type Listener<K extends keyof ChatLifecycleEventMap> = (event: ChatLifecycleEventMap[K]) => void

export function createChatLifecycleEvents (onError: (err: unknown) => void) {
  const listeners = new Map<keyof ChatLifecycleEventMap, Set<Listener<any>>>()
  return {
    /** Subscribes; returns the unsubscribe function. A throwing listener is reported, not propagated. */
    on<K extends keyof ChatLifecycleEventMap> (event: K, listener: Listener<K>): () => void {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      set.add(listener)
      return () => { set.delete(listener) }
    },
    emit<K extends keyof ChatLifecycleEventMap> (event: K, payload: ChatLifecycleEventMap[K]): void {
      for (const listener of listeners.get(event) ?? []) {
        try { listener(payload) } catch (err) { onError(err) }
      }
    }
  }
}

/** A stored message as the room events port reports it (webhooks' `message.created`). */
export function messageCreatedEvent (kind: 'group' | 'channel', message: StoredMessage): RoomEvent {
  return {
    type: 'message.created',
    room: { kind, id: message.roomId },
    ...(message.senderId !== null ? { userId: message.senderId } : {}),
    data: {
      messageId: message.id,
      seq: message.seq,
      senderName: message.senderName,
      content: message.content,
      type: message.type,
      replyToId: message.replyToId,
      createdAt: message.createdAt.toISOString()
    }
  }
}
