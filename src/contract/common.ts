import Type, { type TStringOptions } from 'typebox'

/**
 * Text a client may send: no U+0000 (PostgreSQL's text refuses it: a 500) and no lone surrogate
 * (no valid UTF-8); surrogate pairs pass. Written to mean the same with and without the `u` flag.
 */
export const SAFE_CHARS = '(?:[^\\u0000\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*'
export const TEXT_PATTERN = `^${SAFE_CHARS}$`

/** Every text field of a REST body, params or query, and of a socket payload. `nonBlank`: at
 * least one character that is not white space. */
export function Text (options: Omit<TStringOptions, 'pattern'> & { nonBlank?: boolean } = {}) {
  const { nonBlank = false, ...rest } = options
  return Type.String({ ...rest, pattern: nonBlank ? `^(?=[\\s\\S]*\\S)${SAFE_CHARS}$` : TEXT_PATTERN })
}

/** Bounds of numeric inputs: PostgreSQL's integer and what a JS number holds exactly. */
export const INT32_MAX = 2_147_483_647
/** An `offset` past this is refused (the database would read and skip every row before it). */
export const OFFSET_MAX = 1_000_000
export const Offset = Type.Integer({ minimum: 0, maximum: OFFSET_MAX, default: 0 })
/** A message sequence number (bigint in SQL). */
export const Seq = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })

/** List routes (CONTRACT §10): `limit` ≤ 100, default 50, and an opaque `cursor` from `nextCursor`. */
export const PAGE_LIMIT_MAX = 100
export const PageLimit = Type.Integer({ minimum: 1, maximum: PAGE_LIMIT_MAX, default: 50 })
export const Cursor = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })
export const NextCursor = Type.Union([Type.String(), Type.Null()])

/** Every REST error and every socket error event carries this shape. */
export const ErrorResponse = Type.Object({
  code: Type.String(),
  message: Type.String()
}, { examples: [{ code: 'ROOM_NOT_FOUND', message: 'Room not found' }] })

export const Uuid = Type.String({ format: 'uuid' })
export const IdParams = Type.Object({ id: Text({ minLength: 1, maxLength: 100 }) })

/** A display name: trimmed by the handler, 1–64 characters. */
export const Name = Text({ minLength: 1, maxLength: 64 })

/** OpenAPI security requirements (schemes declared in plugins/docs.ts). */
type Security = Array<Record<string, string[]>>
export const bearerAuth: Security = [{ bearerAuth: [] }]
export const adminAuth: Security = [{ adminApiKey: [] }, { bearerAuth: [] }]

/** A route's schema with its OpenAPI metadata: one tag, a one-line summary, who may call it. */
export function route<T extends object> (tag: string, summary: string, schema: T, security?: Security) {
  return { tags: [tag], summary, ...(security ? { security } : {}), ...schema }
}
