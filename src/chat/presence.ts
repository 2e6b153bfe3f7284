import type { Coalescer } from '../presence/coalesce.js'
import type { ChatEmission } from '../socket/emission.js'
import type { UserStatusValue, Watchers } from '../presence/watchers.js'
import type { ChatSocketPort, Delivery } from './delivery.js'
import { scopeOf, type ChatUser, type RoomRef, type RoomView } from './types.js'
import { presenters, type MemberList } from './vocabularies/wire.js'

/** What the chat service is given for presence. */
export interface ChatPresenceParts {
  /** Who watches whom: `user:status` goes to them only. */
  watchers: Watchers
  /** Member lists, per room (PRESENCE_COALESCE_MS). */
  coalescer: Coalescer
}

export interface ChatPresenceOptions extends ChatPresenceParts {
  delivery: Pick<Delivery, 'deliver' | 'view'>
  sockets: ChatSocketPort
}

/**
 * What the chat tells about who is online, at a cost in proportion to the work (issue 17):
 * `user:status` to the user's watchers only, and each room's member list coalesced.
 */
export function createChatPresence ({ delivery, sockets, watchers, coalescer }: ChatPresenceOptions) {
  /**
   * The room's member list, now when the room was quiet (from `current`, the view the change
   * already read), else once at the end of its window, read then.
   */
  async function sendList (room: RoomRef, list: MemberList, current: RoomView): Promise<void> {
    await coalescer.schedule(scopeOf(room), async (late) => {
      await delivery.deliver([await list.emission(late ? delivery.view(room) : current)], room, '')
    })
  }

  /** A socket left the room; last: the user's last socket there; confirm: it asked to. */
  async function left (view: RoomView, last: boolean, confirm: boolean): Promise<void> {
    const list = presenters[view.ref.kind].memberList
    if (list?.afterLeave(last, confirm) === true) await sendList(view.ref, list, view)
  }

  return {
    left,

    /**
     * `user:status` to the sockets watching the user, wherever they are; nothing when none do.
     * One emission per instance that has watchers, sent to that instance only (CONTRACT §6).
     */
    async status (userId: string, status: UserStatusValue): Promise<void> {
      const byInstance = await watchers.watchersByInstance(userId)
      if (byInstance.size === 0) return
      const emissions: ChatEmission[] = []
      for (const [instance, socketIds] of byInstance) emissions.push({ to: { sockets: socketIds, instance }, event: 'user:status', payload: { userId, status } })
      await sockets.deliver(emissions)
    },

    /** A socket joined the room; first: the user's first socket there. */
    async joined (view: RoomView, first: boolean): Promise<void> {
      const list = presenters[view.ref.kind].memberList
      if (list?.afterJoin(first) === true) await sendList(view.ref, list, view)
    },

    /** The user's last socket left the room without asking (a disconnect, a dead instance). */
    async lastLeft (room: RoomRef, user: ChatUser): Promise<void> {
      const current = delivery.view(room)
      await delivery.deliver(await presenters[room.kind].left(current, user, true, false), room, user.id)
      await left(current, true, false)
    },

    /** The room is gone: nothing queued for it is sent. */
    closed (room: RoomRef): void {
      coalescer.cancel(scopeOf(room))
    }
  }
}

export type ChatPresence = ReturnType<typeof createChatPresence>
