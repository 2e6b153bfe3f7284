import type { CodeSendPayload } from '../../contract/chat.js'
import type { Chat } from '../service.js'
import { normalizeCode } from '../text.js'
import type { ChatUser, RoomRef } from '../types.js'
import { codeRoomMessage } from './wire.js'

const MESSAGE_TYPES = ['text', 'system']

const codeRoom = (raw: string): RoomRef => ({ kind: 'code', id: normalizeCode(raw) })
const codeOf = (payload: string | { room: string }) => typeof payload === 'string' ? payload : payload.room

/** Seed 003's events over the chat core: rooms named by a code, in memory only, gone when empty. */
export function codeRoomHandlers (chat: Chat) {
  return {
    /** `join_room(code)` → `joined_room(CODE)` to the socket, `users_online` to the room. */
    async join (payload: string | { room: string }, socketId: string, user: ChatUser) {
      const room = codeRoom(codeOf(payload))
      await chat.join(room, { socketId, user })
      return { ok: true, room: room.id }
    },

    /** `leave_room(code)` → `left_room(CODE)` to the socket, `users_online` to the rest. */
    async leave (payload: string | { room: string }, socketId: string, user: ChatUser) {
      const room = codeRoom(codeOf(payload))
      await chat.leave(room, { socketId, user })
      return { ok: true, room: room.id }
    },

    /** `send_message {content, room, messageType?}` → `new_message` to the room, sender included. */
    async send (payload: CodeSendPayload, socketId: string, user: ChatUser) {
      // As seed 003: an unknown type becomes 'text' rather than an error.
      const type = payload.messageType !== undefined && MESSAGE_TYPES.includes(payload.messageType) ? payload.messageType : 'text'
      const { message } = await chat.send({ room: codeRoom(payload.room), sender: user, content: payload.content, type, socketId })
      return codeRoomMessage(message)
    },

    async typing (payload: { room: string }, socketId: string, user: ChatUser, isTyping: boolean) {
      await chat.setTyping(codeRoom(payload.room), user, isTyping, socketId)
    }
  }
}
