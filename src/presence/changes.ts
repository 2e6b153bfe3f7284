import type { RoomEvent, RoomEventSink } from '../services/room-events.js'
import type { Presence, ScopeLeft, SweepReport } from './service.js'

type Room = NonNullable<RoomEvent['room']>
const KINDS = new Set<string>(['public', 'group', 'code', 'channel'])

/** The room of a presence scope (`public:{id}`, `group:{id}`, `code:{CODE}`, `channel:{id}`). */
export function roomOfScope (scope: string): Room | null {
  const cut = scope.indexOf(':')
  const kind = scope.slice(0, cut)
  return cut > 0 && KINDS.has(kind) ? { kind: kind as Room['kind'], id: scope.slice(cut + 1) } : null
}

function joinedEvents (room: Room, userId: string, count: number): RoomEvent[] {
  const data = { members: count }
  return count === 1
    ? [{ type: 'room.occupied', room, userId, data }, { type: 'member.added', room, userId, data }]
    : [{ type: 'member.added', room, userId, data }]
}

/** A user's last socket left a scope: member.removed, and room.vacated when nobody is left. */
export function leftEvents (left: ScopeLeft[]): RoomEvent[] {
  const events: RoomEvent[] = []
  for (const { scope, userId, last, count } of left) {
    const room = roomOfScope(scope)
    if (!room || !last) continue
    const data = { members: count }
    events.push({ type: 'member.removed', room, userId, data })
    if (count === 0) events.push({ type: 'room.vacated', room, userId, data })
  }
  return events
}

/**
 * A stored room deleted while `present` were in it: each one removed, then room.vacated
 * (`data.reason: 'deleted'`), written with the deletion (its sockets then use leaveDeleted).
 */
export function deletedRoomEvents (room: Room, present: string[]): RoomEvent[] {
  return leftEvents(present.map((userId, n) => ({ scope: `${room.kind}:${room.id}`, userId, last: true, count: present.length - n - 1 })))
    .map(e => e.type === 'room.vacated' ? { ...e, data: { ...e.data, reason: 'deleted' } } : e)
}

const offlineEvents = (userIds: string[]): RoomEvent[] => userIds.map(userId => ({ type: 'user.offline', userId }))

/**
 * Presence that reports what its scripts saw: first/last socket in a scope, first/last socket
 * of a user. Only the instance whose script saw a change reports it (a dead instance's entries:
 * the one survivor that removes them), so each change is reported once across instances.
 */
export function reportingPresence (presence: Presence, sink: RoomEventSink): Presence {
  const report = (events: RoomEvent[]) => { if (events.length > 0) sink.report(events) }
  const sweepReported = (report_: SweepReport) => { report([...leftEvents(report_.left), ...offlineEvents(report_.offline)]) }
  presence.onSweep(sweepReported)
  return {
    ...presence,
    async connect (socketId, userId) {
      const result = await presence.connect(socketId, userId)
      if (result.firstSocket) report([{ type: 'user.online', userId }])
      return result
    },
    async join (socketId, scope) {
      const result = await presence.join(socketId, scope)
      const room = result.first ? roomOfScope(scope) : null
      if (room && (sink.wants('member.added') || sink.wants('room.occupied'))) {
        const userId = await presence.userOf(socketId)
        if (userId !== null) report(joinedEvents(room, userId, result.count))
      }
      return result
    },
    async leave (socketId, scope) {
      const result = await presence.leave(socketId, scope)
      if (result.left && result.userId !== null) report(leftEvents([{ scope, userId: result.userId, last: result.last, count: result.count }]))
      return result
    },
    async disconnect (socketId) {
      const result = await presence.disconnect(socketId)
      report([...leftEvents(result.left), ...(result.lastSocket && result.userId !== null ? offlineEvents([result.userId]) : [])])
      return result
    },
    async removeInstance () {
      const result = await presence.removeInstance()
      sweepReported(result)
      return result
    }
  }
}
