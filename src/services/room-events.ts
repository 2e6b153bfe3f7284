import type { Db } from '../db/index.js'

/** What happened in a room, as a domain service reports it (docs/webhooks.md lists the types). */
export interface RoomEvent {
  type: 'room.occupied' | 'room.vacated' | 'member.added' | 'member.removed' | 'message.created' | 'sync.playback' | 'user.online' | 'user.offline'
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
  /** With `tx`, the events commit with it; without, written in the background (never throws). */
  report (events: RoomEvent[], tx?: SqlExecutor): Promise<void>
}

/** Nobody listens. */
export const noRoomEvents: RoomEventSink = { wants: () => false, report: async () => {} }

export interface RoomEventsHub extends RoomEventSink {
  /** The sink events go to from now on (the webhooks), and what flushes it at shutdown. */
  connect (sink: RoomEventSink & { close?: () => Promise<void> }): void
  /** Waits for background reports, then flushes the connected sink. */
  close (): Promise<void>
}

/** Late binding: services get the hub at start-up, the webhooks plugin connects later. */
export function createRoomEventsHub (onError: (err: unknown) => void): RoomEventsHub {
  let target: (RoomEventSink & { close?: () => Promise<void> }) | null = null
  const inflight = new Set<Promise<void>>()
  return {
    wants: (type) => target?.wants(type) ?? false,
    report (events, tx) {
      const wanted = events.filter(e => target?.wants(e.type))
      if (!target || wanted.length === 0) return Promise.resolve()
      if (tx) return target.report(wanted, tx)
      const work = target.report(wanted).catch(onError)
      inflight.add(work)
      work.finally(() => inflight.delete(work))
      return work
    },
    connect (sink) { target = sink },
    async close () {
      await Promise.allSettled([...inflight])
      await target?.close?.()
    }
  }
}
