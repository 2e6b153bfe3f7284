import Type from 'typebox'

/** Every REST error and every socket error event carries this shape. */
export const ErrorResponse = Type.Object({
  code: Type.String(),
  message: Type.String()
}, { examples: [{ code: 'ROOM_NOT_FOUND', message: 'Room not found' }] })

export const Uuid = Type.String({ format: 'uuid' })
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) })

/** A display name: trimmed by the handler, 1–64 characters. */
export const Name = Type.String({ minLength: 1, maxLength: 64 })

/** OpenAPI security requirements (schemes declared in plugins/docs.ts). */
type Security = Array<Record<string, string[]>>
export const bearerAuth: Security = [{ bearerAuth: [] }]
export const adminAuth: Security = [{ adminApiKey: [] }, { bearerAuth: [] }]

/** A route's schema with its OpenAPI metadata: one tag, a one-line summary, who may call it. */
export function route<T extends object> (tag: string, summary: string, schema: T, security?: Security) {
  return { tags: [tag], summary, ...(security ? { security } : {}), ...schema }
}
