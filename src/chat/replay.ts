import type { Socket } from 'socket.io'
import type { HistoryReplayed } from '../contract/chat.js'
import { toChatMessage, type Chat } from './service.js'
import { holdLiveMessages, type LiveSeq } from './replay-hold.js'
import type { RoomEmission, RoomRef, StoredKind } from './types.js'
import { emit } from './vocabularies/wire.js'

type StoredRoom = RoomRef & { kind: StoredKind }

/** The live message event of each stored vocabulary, by the room it names. */
function liveSeqOf (room: StoredRoom): LiveSeq {
  const event = room.kind === 'group' ? 'message_received' : 'message'
  const key = room.kind === 'group' ? 'groupId' : 'roomId'
  return (name, payload) => {
    if (name !== event || typeof payload !== 'object' || payload === null) return null
    const p = payload as Record<string, unknown>
    return p[key] === room.id && typeof p.seq === 'number' ? p.seq : null
  }
}

/**
 * Replay beyond the recovery window (issue 18, CONTRACT §12): a join with `sinceSeq` gets the
 * newest `max` messages stored after it, in seq order, as the vocabulary's usual message event,
 * then `history:replayed`, to the joining socket alone and before any live message of the room.
 * The socket's live messages of the room are held from before it joins until the replay is out
 * (replay-hold.ts): those up to the last replayed seq are dropped, later ones follow in order.
 */
export function createReplay (chat: Chat, max: number) {
  async function replay (room: StoredRoom, sinceSeq: number, socketId: string, userId: string, hold: ReturnType<typeof holdLiveMessages>): Promise<HistoryReplayed> {
    // One more than replayed tells whether more were missed.
    const rows = await chat.repository.after(room.id, sinceSeq, max + 1)
    const upTo = rows[0]?.seq ?? sinceSeq
    const replayed = await chat.changes.withReactions(rows.slice(0, max).reverse().map(m => toChatMessage(room.kind, m)))
    const emissions: RoomEmission[] = []
    for (const message of replayed) {
      for (const e of chat.presenters[room.kind].message(message)) {
        hold.allow(e.payload as object)
        emissions.push({ ...e, to: 'socket' })
      }
    }
    const range = { fromSeq: replayed[0]?.seq ?? upTo + 1, toSeq: upTo, complete: rows.length <= max }
    const done: HistoryReplayed = room.kind === 'group' ? { groupId: room.id, ...range } : { roomId: room.id, ...range }
    hold.finishOn(done, upTo)
    emissions.push(emit('socket', 'history:replayed', done))
    await chat.deliver(emissions, room, userId, socketId)
    return done
  }

  /** Runs `join` for this socket; with `sinceSeq`, replays what it missed of the room. */
  return async function joinWithReplay<T> (socket: Socket, userId: string, room: StoredRoom, sinceSeq: number | undefined, join: () => Promise<T>): Promise<T> {
    if (sinceSeq === undefined) return await join()
    const hold = holdLiveMessages(socket, liveSeqOf(room))
    try {
      const reply = await join()
      await replay(room, sinceSeq, socket.id, userId, hold)
      return reply
    } catch (err) {
      hold.release()
      throw err
    }
  }
}

export type JoinWithReplay = ReturnType<typeof createReplay>
