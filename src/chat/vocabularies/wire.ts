import type { ChatServerToClientEvents } from '../../client.js'
import type { ChannelMessage, CodeRoomMessage, GroupMessage } from '../../contract/chat.js'
import { changedFields } from './changes.js'
import type { ChatMessage, ChatUser, RoomAudience, RoomEmission, RoomKind, RoomRef, RoomView } from '../types.js'

/**
 * How each vocabulary says what happened in a room: the core decides that a user joined, left,
 * wrote or typed, the room's presenter names the events and shapes the payloads (CONTRACT §6).
 */
export interface Presenter {
  /** `first`: the user's first socket in the room. */
  joined (view: RoomView, user: ChatUser, first: boolean): Promise<RoomEmission[]>
  /** `last`: the user's last socket left; `confirm`: the socket asked to leave (tell it). */
  left (view: RoomView, user: ChatUser, last: boolean, confirm: boolean): Promise<RoomEmission[]>
  message (message: ChatMessage): RoomEmission[]
  typing (room: RoomRef, user: ChatUser, isTyping: boolean): RoomEmission[]
  /** The room was deleted (its sockets are about to be taken out). */
  closed (room: RoomRef): RoomEmission[]
  /** The room's list of who is online, when the vocabulary has one (CONTRACT §6: coalesced per room). */
  memberList?: MemberList
}

/** A member list is sent after the changes it names, coalesced, and read when it is sent. */
export interface MemberList {
  emission (view: RoomView): Promise<RoomEmission>
  /** first: the user's first socket joined. */
  afterJoin (first: boolean): boolean
  /** last: the user's last socket left; confirm: the socket asked to leave. */
  afterLeave (last: boolean, confirm: boolean): boolean
}

type Events = ChatServerToClientEvents

/** One event of `/`, its payload checked against the contract's map. */
export const emit = <E extends keyof Events & string> (to: RoomAudience, event: E, payload: Parameters<Events[E]>[0]): RoomEmission =>
  ({ to, event, payload }) as RoomEmission

export function groupMessage (m: ChatMessage): GroupMessage {
  const sender = { id: m.senderId, name: m.senderName }
  return {
    id: m.id,
    groupId: m.room.id,
    seq: m.seq ?? 0,
    sender,
    user: sender,
    content: m.content,
    type: m.type,
    replyToId: m.replyToId,
    clientMessageId: m.clientMessageId,
    createdAt: m.createdAt.toISOString(),
    ...changedFields(m)
  }
}

export function codeRoomMessage (m: ChatMessage): CodeRoomMessage {
  return {
    _id: m.id,
    content: m.content,
    sender: { _id: m.senderId ?? '', username: m.senderName, isOnline: true },
    room: m.room.id,
    messageType: m.type,
    createdAt: m.createdAt.toISOString(),
    // Code rooms are never stored, so never edited; a stored message shown this way would say.
    isEdited: m.editedAt !== null
  }
}

export function channelMessage (m: ChatMessage): ChannelMessage {
  return {
    id: m.id,
    roomId: m.room.id,
    seq: m.seq ?? 0,
    userId: m.senderId,
    username: m.senderName,
    content: m.content,
    type: m.type,
    timestamp: m.createdAt.toISOString(),
    ...changedFields(m)
  }
}

async function onlineMembers (view: RoomView) {
  return (await view.online()).map(u => ({ userId: u.id, userName: u.displayName }))
}

/** Seed 001. */
const groups: Presenter = {
  async joined (view, user, first) {
    const groupId = view.ref.id
    const online = await onlineMembers(view)
    const out = [emit('socket', 'joined_group_success', {
      groupId, memberCount: await view.memberCount(), onlineCount: online.length, onlineMembers: online
    })]
    if (first) out.push(emit('others', 'user_joined_group', { groupId, userId: user.id, userName: user.displayName }))
    return out
  },
  async left (view, user, last, confirm) {
    const groupId = view.ref.id
    const out = confirm ? [emit('socket', 'left_group_success', { groupId })] : []
    if (last) out.push(emit('others', 'user_left_group', { groupId, userId: user.id }))
    return out
  },
  memberList: {
    emission: async (view) => emit('room', 'room_members_update', { groupId: view.ref.id, onlineMembers: await onlineMembers(view) }),
    afterJoin: (first) => first,
    afterLeave: (last) => last
  },
  message: (m) => [emit('room', 'message_received', groupMessage(m))],
  typing: (room, user, isTyping) => [isTyping
    ? emit('others', 'user_typing', { groupId: room.id, userId: user.id, userName: user.displayName })
    : emit('others', 'user_stopped_typing', { groupId: room.id, userId: user.id })],
  closed: (room) => [emit('room', 'left_group_success', { groupId: room.id })]
}

async function usersOnline (view: RoomView) {
  return (await view.online()).map(u => ({ userId: u.id, username: u.username }))
}

/** Seed 003. */
const codeRooms: Presenter = {
  async joined (view) {
    return [emit('socket', 'joined_room', view.ref.id)]
  },
  async left (view, _user, _last, confirm) {
    return confirm ? [emit('socket', 'left_room', view.ref.id)] : []
  },
  memberList: {
    emission: async (view) => emit('room', 'users_online', await usersOnline(view)),
    // As seed 003: every join is answered with the list; it changes on a leave only when the
    // user's last socket went, and a leave is always answered.
    afterJoin: () => true,
    afterLeave: (last, confirm) => last || confirm
  },
  message: (m) => [emit('room', 'new_message', codeRoomMessage(m))],
  typing: (_room, user, isTyping) => [emit('others', isTyping ? 'user_typing' : 'user_stop_typing', { username: user.username, userId: user.id })],
  closed: () => []
}

/** Seed 004. */
const channels: Presenter = {
  async joined (view, user, first) {
    const payload = { roomId: view.ref.id, userId: user.id, username: user.username }
    // The room hears of the user's first socket; another tab of theirs gets it as its confirmation.
    return [emit(first ? 'room' : 'socket', 'user:joined', payload)]
  },
  async left (view, user, last, confirm) {
    const payload = { roomId: view.ref.id, userId: user.id, username: user.username }
    const out: RoomEmission[] = []
    if (last) out.push(emit('room', 'user:left', payload))
    if (confirm) out.push(emit('socket', 'user:left', payload))
    return out
  },
  message: (m) => [emit('room', 'message', channelMessage(m))],
  typing: (room, user, isTyping) => [emit('others', 'typing', { roomId: room.id, userId: user.id, username: user.username, isTyping })],
  closed: (room) => [emit('room', 'room:deleted', { roomId: room.id })]
}

export const presenters: Record<RoomKind, Presenter> = { group: groups, code: codeRooms, channel: channels }
