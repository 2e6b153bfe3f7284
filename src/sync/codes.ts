import { randomBytes } from 'node:crypto'

/** A–Z and 2–9 without the look-alikes 0/O and 1/I: 32 symbols, so a random byte & 31 is unbiased. */
export const ROOM_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'
export const ROOM_CODE_LENGTH = 8

const CODE_PATTERN = new RegExp(`^[${ROOM_CODE_ALPHABET}]{${ROOM_CODE_LENGTH}}$`)

/** A fresh room code from the crypto RNG (2^40 codes; the caller retries on a collision). */
export function generateRoomCode (): string {
  const bytes = randomBytes(ROOM_CODE_LENGTH)
  let code = ''
  for (const byte of bytes) code += ROOM_CODE_ALPHABET[byte & 31]
  return code
}

/** Codes match case-insensitively and ignoring surrounding blanks; null for what can never be a code. */
export function normalizeRoomCode (input: string): string | null {
  const code = input.trim().toUpperCase()
  return CODE_PATTERN.test(code) ? code : null
}
