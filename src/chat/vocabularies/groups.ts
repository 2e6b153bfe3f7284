import type { GroupSendPayload } from '../../contract/chat.js'
import { AppError } from '../../errors.js'
import type { Chat } from '../service.js'
import type { ChatUser, RoomRef } from '../types.js'
import { emit, groupMessage } from './wire.js'

const group = (groupId: string): RoomRef => ({ kind: 'group', id: groupId })
const idOf = (payload: string | { groupId: string }) => typeof payload === 'string' ? payload : payload.groupId

/** Seed 001's events over the chat core: groups whose membership lives in SQL. */
export function groupHandlers (chat: Chat) {
  return {
    /** `join_group(groupId)` → `joined_group_success` (also the ack). */
    async join (payload: string | { groupId: string }, socketId: string, user: ChatUser) {
      return (await chat.join(group(idOf(payload)), { socketId, user })).reply
    },

    /** `leave_group(groupId)` → `left_group_success`; leaving a group not joined is not an error. */
    async leave (payload: string | { groupId: string }, socketId: string, user: ChatUser) {
      const groupId = idOf(payload)
      await chat.leave(group(groupId), { socketId, user })
      return { groupId }
    },

    /** `send_message {groupId, ...}` → `message_received` to the group; the ack gets the stored message. */
    async send (payload: GroupSendPayload, socketId: string, user: ChatUser) {
      const { message } = await chat.send({
        room: group(payload.groupId),
        sender: user,
        content: payload.content,
        type: payload.type,
        replyToId: payload.replyToId,
        clientMessageId: payload.clientMessageId,
        socketId
      })
      return groupMessage(message)
    },

    async typing (payload: { groupId: string }, socketId: string, user: ChatUser, isTyping: boolean) {
      await chat.setTyping(group(payload.groupId), user, isTyping, socketId)
    },

    /** `get_room_info {groupId}` → the ack, or a `room_info` event when there is no ack. Members only. */
    async info (payload: { groupId: string }, socketId: string, user: ChatUser, hasAck: boolean) {
      const access = await chat.access(payload.groupId, user.id, 'group')
      if (!access) throw new AppError('ROOM_NOT_FOUND', 'Room not found', 404)
      if (access.role === null) throw new AppError('NOT_A_MEMBER', 'You are not a member of this group', 403)
      const { onlineCount, onlineUserIds, socketCount } = await chat.roomInfo(group(payload.groupId))
      const info = { groupId: payload.groupId, onlineCount, onlineUserIds, socketCount }
      if (!hasAck) await chat.deliver([emit('socket', 'room_info', info)], group(payload.groupId), user.id, socketId)
      return info
    }
  }
}
