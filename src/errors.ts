/**
 * The one error type that carries a contract code from the domain to the wire: REST replies
 * `{ code, message }` with `statusCode`, socket handlers emit it on the namespace's error event.
 */
export class AppError extends Error {
  constructor (
    readonly code: string,
    message: string,
    readonly statusCode = 400,
    readonly details?: Record<string, unknown>
  ) {
    super(message)
    this.name = 'AppError'
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError

export interface WireError { code: string, message: string }

/** What a client sees for any error: contract codes pass through, anything else is hidden. */
export function toWireError (err: unknown, fallbackCode = 'INTERNAL_ERROR'): WireError {
  if (isAppError(err)) return { code: err.code, message: err.message }
  return { code: fallbackCode, message: 'Internal error' }
}
