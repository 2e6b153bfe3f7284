import Type from 'typebox'

/** Every REST error and every socket error event carries this shape. */
export const ErrorResponse = Type.Object({
  code: Type.String(),
  message: Type.String()
})

export const Uuid = Type.String({ format: 'uuid' })
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) })

/** A display name: trimmed by the handler, 1–64 characters. */
export const Name = Type.String({ minLength: 1, maxLength: 64 })
