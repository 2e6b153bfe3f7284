import { AppError } from '../errors.js'

/**
 * Keyset cursors of list routes (CONTRACT §10): the sort key of a page's last item, sent to
 * clients as opaque base64url. A cursor this server did not hand out is a 400, never SQL input.
 */
export interface RoomKey {
  /** Creation time in microseconds since the epoch (SQL keeps microseconds; a Date does not). */
  createdMicros: string
  id: string
}

const KEY = /^([0-9]{1,18})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i

export function encodeRoomCursor (key: RoomKey): string {
  return Buffer.from(`${key.createdMicros}.${key.id}`).toString('base64url')
}

export function decodeRoomCursor (cursor: string | undefined): RoomKey | undefined {
  if (cursor === undefined) return undefined
  const match = KEY.exec(Buffer.from(cursor, 'base64url').toString())
  if (!match) throw new AppError('INVALID_REQUEST', 'cursor is not a nextCursor this server gave')
  return { createdMicros: match[1], id: match[2] }
}

/** What a list route answers: the page and the cursor of the next one (null on the last page). */
export interface Page<T> { items: T[], next: RoomKey | null }
