import { AppError } from '../errors.js'

// What a chat message and a seed-003 room code may be.

const MAX_CODE_LENGTH = 64
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

/** Seed 003's normalisation (trim, upper-case), refusing what cannot name a room. */
export function normalizeCode (raw: string): string {
  const code = raw.trim().toUpperCase()
  if (code === '') throw new AppError('INVALID_REQUEST', 'Room code is required')
  if (code.length > MAX_CODE_LENGTH || CONTROL.test(code)) throw new AppError('INVALID_REQUEST', `Room code must be 1-${MAX_CODE_LENGTH} printable characters`)
  return code
}

/** Plain text, trimmed, 1..maxLength characters; otherwise exactly as given (never HTML-mangled). */
export function checkContent (raw: string, maxLength: number): string {
  const content = raw.trim()
  if (content === '') throw new AppError('INVALID_REQUEST', 'Message required')
  // Code units are never fewer than code points: count the latter only when it can matter.
  if (content.length > maxLength && [...content].length > maxLength) {
    throw new AppError('MESSAGE_TOO_LONG', `Message too long (max ${maxLength} chars)`)
  }
  return content
}
