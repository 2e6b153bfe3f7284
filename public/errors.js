// What each contract error code (CONTRACT §3–§10, src/contract/*) means to a person using the
// page. The server's own message is kept for the developer console and the element's title.

const FRIENDLY = {
  // Accounts (REST, CONTRACT §3)
  USERNAME_TAKEN: 'That username is taken: pick another one.',
  INVALID_CREDENTIALS: 'Wrong username or password.',
  INVALID_TOKEN: 'Your sign-in has expired or is not valid: sign in again.',
  UNAUTHORIZED: 'You need to sign in for that.',
  FORBIDDEN: 'You are not allowed to do that here.',
  // Public rooms (seed 000)
  TOO_MANY_CONNECTIONS: 'Too many open connections from your network (at most 2): close another tab and try again.',
  CONNECTION_ERROR: 'The connection could not be set up: try again in a moment.',
  INVALID_USER: 'That name belongs to another browser or network: choose another name.',
  ROOM_NOT_FOUND: 'That room does not exist (any more). Check the code or pick one from the list.',
  ROOM_FULL: 'The room is full.',
  JOIN_ERROR: 'Could not join the room: try again.',
  LEAVE_ERROR: 'Could not leave the room cleanly; it will notice once you close the page.',
  CONNECTION_TIMEOUT: 'You were idle too long and were disconnected: join again to continue.',
  // Watch parties (seed 002)
  INVALID_PASSWORD: 'Wrong room password.',
  ALREADY_IN_ROOM: 'You are already in this watch party (maybe in another tab).',
  NOT_IN_ROOM: 'Join the room first.',
  // Chat (seeds 001, 003, 004)
  NOT_A_MEMBER: 'You are not a member of this group: ask its owner to add you by username.',
  MESSAGE_TOO_LONG: 'That message is too long (5000 characters at most).',
  USER_NOT_FOUND: 'No registered user by that name.',
  SOCKET_NOT_FOUND: 'That connection is gone.',
  // Everywhere
  RATE_LIMITED: 'Slow down a little: too many requests. Try again in a moment.',
  INVALID_REQUEST: 'Something in that request was not accepted',
  UNKNOWN_EVENT: 'The server does not know that action (an older or newer page?).',
  NOT_FOUND: 'Not found.',
  SERVICE_UNAVAILABLE: 'The service is busy or restarting: try again shortly.',
  INTERNAL_ERROR: 'Something went wrong on the server. Try again.'
}

/** Every code this page has words for (the browser test checks the contract's codes against it). */
export const KNOWN_CODES = Object.freeze(Object.keys(FRIENDLY))

/** A sentence for a `{code, message}` error: the friendly text; the server's detail for bad input. */
export function friendly (code, message) {
  const text = FRIENDLY[code]
  if (!text) return message || 'Something went wrong.'
  // Bad input: the server says which field, which helps the person fix it.
  return code === 'INVALID_REQUEST' && message ? `${text}: ${message}` : text
}

/** A failed Socket.IO handshake: the server's `{code, message}` (as `data`) when it gave one. */
export function cannotConnect (err) {
  if (typeof err?.data?.code === 'string') return err.data
  return new Error(`Cannot reach the server (${err?.message ?? 'no answer'}); retrying…`)
}
