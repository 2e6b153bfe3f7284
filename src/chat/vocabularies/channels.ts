import type { ChannelMessagePayload } from '../../contract/chat.js'
import type { Chat } from '../service.js'
import type { ChatUser, RoomRef } from '../types.js'
import { channelMessage } from './wire.js'

const channel = (roomId: string): RoomRef => ({ kind: 'channel', id: roomId })

/** Seed 004's client events over the chat core: channels created server-side, open to join, history kept. */
export function channelHandlers (chat: Chat) {
  return {
    /** `room:join {roomId}` → `user:joined` to the room (to this socket alone when another tab was there first). */
    async join (payload: { roomId: string }, socketId: string, user: ChatUser) {
      const { first } = await chat.join(channel(payload.roomId), { socketId, user })
      return { ok: true, roomId: payload.roomId, first }
    },

    /** `room:leave {roomId}` → `user:left` to this socket, and to the room when it was the user's last. */
    async leave (payload: { roomId: string }, socketId: string, user: ChatUser) {
      const { last } = await chat.leave(channel(payload.roomId), { socketId, user })
      return { ok: true, roomId: payload.roomId, last }
    },

    /** `message {roomId, content, type}` → stored, then `message` to the room, sender included. */
    async message (payload: ChannelMessagePayload, socketId: string, user: ChatUser) {
      const { message } = await chat.send({
        room: channel(payload.roomId),
        sender: user,
        content: payload.content,
        type: payload.type ?? 'text',
        clientMessageId: payload.clientMessageId,
        socketId
      })
      return channelMessage(message)
    },

    /** `typing {roomId, isTyping}` → `typing` to the others. */
    async typing (payload: { roomId: string, isTyping: boolean }, socketId: string, user: ChatUser) {
      await chat.setTyping(channel(payload.roomId), user, payload.isTyping, socketId)
    }
  }
}
