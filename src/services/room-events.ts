import type { Db } from '../db/index.js'

/** What happened in a room, as a domain service reports it (docs/webhooks.md lists the types). */
export interface RoomEvent {
  type: 'room.occupied' | 'room.vacated' | 'member.added' | 'member.removed' | 'message.created' | 'sync.playback' | 'user.online' | 'user.offline'
    | 'message.updated' | 'message.deleted'
  /** Left out for user.online / user.offline: a user is online across rooms. */
  room?: { kind: 'public' | 'sync' | 'group' | 'code' | 'channel', id: string }
  userId?: string
  data?: Record<string, unknown>
}

/** A drizzle transaction, or a drizzle instance pinned to one connection inside BEGIN. */
export type SqlExecutor = Db | Parameters<Parameters<Db['transaction']>[0]>[0]

/**
 * The port domain services report to; plugins/room-events.ts connects it to the webhooks.
 * Services call it only where their atomic step (a Lua script, an SQL statement) saw the change,
 * so each change is reported once across instances.
 */
export interface RoomEventSink {
  /** Whether anyone listens for `type` now: a service skips the work of reporting it otherwise. */
  wants (type: RoomEvent['type']): boolean
  /** Written in the background; a failure is logged, never thrown at the caller. */
  report (events: RoomEvent[]): void
  /** Written in `tx`: the events commit or roll back with the change they report. */
  write (events: RoomEvent[], tx: SqlExecutor): Promise<void>
}

/** Nobody listens. */
export const noRoomEvents: RoomEventSink = { wants: () => false, report: () => {}, write: async () => {} }

/** Where the hub's events go (the webhook outbox). */
export interface RoomEventTarget {
  wants: RoomEventSink['wants']
  enqueue (events: RoomEvent[], tx?: SqlExecutor): Promise<unknown>
  /** Writes what is buffered (at shutdown). */
  close (): Promise<void>
}

export interface RoomEventsHub extends RoomEventSink {
  /** The target events go to from now on. */
  connect (target: RoomEventTarget): void
  /** Waits for background reports, then flushes the connected sink. */
  close (): Promise<void>
}

/** Late binding: services get the hub at start-up, the webhooks plugin connects later. */
export function createRoomEventsHub (onError: (err: unknown) => void): RoomEventsHub {
  let target: RoomEventTarget | null = null
  const inflight = new Set<Promise<unknown>>()
  const wanted = (events: RoomEvent[]) => events.filter(e => target?.wants(e.type))
  return {
    wants: (type) => target?.wants(type) ?? false,
    report (events) {
      const some = wanted(events)
      if (!target || some.length === 0) return
      const work = target.enqueue(some).catch(onError)
      inflight.add(work)
      work.finally(() => inflight.delete(work))
    },
    async write (events, tx) {
      const some = wanted(events)
      if (target && some.length > 0) await target.enqueue(some, tx)
    },
    connect (next) { target = next },
    async close () {
      await Promise.allSettled([...inflight])
      await target?.close?.()
    }
  }
}
