/**
 * Connection state recovery on any instance (CONTRACT §11, §12), with an honest answer: a session
 * is recovered only when every kept broadcast the client missed, in every room it was in, can be
 * replayed from the rooms' logs exactly, in order and once. Otherwise the client gets a fresh
 * session (`socket.recovered === false`) and fetches what it needs itself.
 */
import type { Cluster, Redis } from 'ioredis'
import type { BroadcastOptions, Session } from 'socket.io-adapter'
import { offsetOf, roomHash, roomLog, sessionKey } from './names.js'
import { receivedPositions, type PositionSnapshot } from './positions.js'

export type RedisClient = Redis | Cluster

/** The session as stored when its socket left. */
export type StoredSession = Omit<Session, 'missedPackets'> & PositionSnapshot

/** An encoded broadcast, as published and as kept in a room's log. */
export interface BroadcastMessage {
  uid: string
  nsp: string
  type: number
  data: { packet: { type: number, data: unknown[] }, opts: { rooms: string[], except: string[], flags?: BroadcastOptions['flags'] } }
}

/** A broadcast's options as published (Sets as lists), and back. */
export const encodeOptions = (opts: BroadcastOptions): BroadcastMessage['data']['opts'] =>
  ({ rooms: [...opts.rooms], except: [...(opts.except ?? [])], ...(opts.flags === undefined ? {} : { flags: opts.flags }) })
export const decodeOptions = (opts: BroadcastMessage['data']['opts']): BroadcastOptions =>
  ({ rooms: new Set(opts.rooms), except: new Set(opts.except), flags: opts.flags })

/** A kept broadcast a restored socket missed: its room, its log id and what is written to it. */
export interface Missed { room: string, id: string, data: unknown[] }

/** Whether a broadcast with these options reached a socket in `rooms` (socket.io-adapter's rule). */
export function reaches (rooms: Set<string>, opts: BroadcastMessage['data']['opts']): boolean {
  const included = opts.rooms.length === 0 || opts.rooms.some(room => rooms.has(room))
  return included && !opts.except.some(room => rooms.has(room))
}

/** Field `name` of an XINFO STREAM answer (a flat list of names and values). */
function infoField (info: unknown[], name: string): unknown {
  const at = info.indexOf(name)
  return at === -1 ? undefined : info[at + 1]
}

/**
 * The kept broadcasts of one room after `after`, or null when they cannot all be had: the log no
 * longer holds `after` (trimmed from its head past it, or expired and begun again), or it expired
 * while broadcasts the socket never received (up to `last`, the newest written to it) were in it,
 * or more than `max` are missed. `after` is '0-0' when the log was empty as the room began here:
 * then nothing may ever have been trimmed from it.
 */
async function missedInRoom (client: RedisClient, log: string, after: string, last: string, max: number): Promise<Array<[string, string[]]> | null> {
  const [info, entries] = await Promise.all([
    client.call('XINFO', 'STREAM', log).then(v => v as unknown[], () => null),
    client.xrange(log, after === '0-0' ? '-' : after, '+', 'COUNT', max + 2)
  ])
  // No log: nothing was kept in it for maxDisconnectionDuration, so nothing since the disconnect.
  if (info === null) return after === last ? [] : null
  let missed = entries
  if (after === '0-0') {
    if (Number(infoField(info, 'entries-added')) !== Number(infoField(info, 'length'))) return null
  } else {
    if (entries[0]?.[0] !== after) return null
    missed = entries.slice(1)
  }
  if (missed.length > max) return null
  // Written to the socket but lost with its connection: they must all be in the log still.
  if (after !== last && !missed.some(([id]) => id === last)) return null
  return missed
}

export interface RestoreDeps {
  client: RedisClient
  prefix: string
  nsp: string
  /** Most entries replayed from one room's log. */
  maxPerRoom: number
}

/** The stored session of `pid` (read once: a session is restored at most once). */
export async function takeSession (deps: RestoreDeps, pid: string): Promise<StoredSession | null> {
  const raw = await deps.client.getdel(sessionKey(deps.prefix, deps.nsp, pid))
  if (raw === null) return null
  try {
    return JSON.parse(raw) as StoredSession
  } catch {
    return null
  }
}

/** Per room, the newest log id the client received, from the offset it sent (null: unknown). */
export function receivedFrom (session: StoredSession, offset: string): Record<string, string> | null {
  const [id, hash] = offset.split('~')
  if (id === undefined || hash === undefined) return null
  return receivedPositions(session, d => d.id === id && roomHash(d.room) === hash)
}

/** Every kept broadcast the session missed, in each room's order; null when not all can be had. */
export async function missedBroadcasts (deps: RestoreDeps, session: StoredSession, received: Record<string, string>): Promise<Missed[] | null> {
  const rooms = new Set(session.rooms)
  const perRoom = await Promise.all(Object.entries(received).map(async ([room, after]) => {
    const entries = await missedInRoom(deps.client, roomLog(deps.prefix, deps.nsp, room), after, session.positions[room], deps.maxPerRoom)
    if (entries === null) return null
    const missed: Missed[] = []
    for (const [id, fields] of entries) {
      const message = JSON.parse(fields[1]) as BroadcastMessage
      if (reaches(rooms, message.data.opts)) missed.push({ room, id, data: [...message.data.packet.data, offsetOf(room, id)] })
    }
    return missed
  }))
  if (perRoom.includes(null)) return null
  return (perRoom as Missed[][]).flat()
}
