import { AppError } from '../errors.js'
import { TEXT_PATTERN } from './common.js'

const safeText = new RegExp(TEXT_PATTERN)

/**
 * Room metadata a client sends (CONTRACT §10): at most `maxBytes` of JSON (UTF-8), and no text a
 * jsonb column refuses (U+0000, a lone surrogate) in any key or value. Too big or bad: 400
 * INVALID_REQUEST, like every other input that fails its schema.
 */
export function checkMetadata (metadata: Record<string, unknown> | undefined, maxBytes: number): void {
  if (metadata === undefined) return
  const json = JSON.stringify(metadata)
  if (Buffer.byteLength(json) > maxBytes) {
    throw new AppError('INVALID_REQUEST', `metadata must be at most ${maxBytes} bytes of JSON (CHANNEL_METADATA_MAX_BYTES)`)
  }
  JSON.parse(json, (key, value: unknown) => {
    if (!safeText.test(key) || (typeof value === 'string' && !safeText.test(value))) {
      throw new AppError('INVALID_REQUEST', 'metadata must not hold U+0000 or a lone surrogate')
    }
    return value
  })
}

/** A schema's examples without their `metadata` (list items leave it out). */
export function examplesWithoutMetadata (schema: object): unknown[] | undefined {
  const { examples } = schema as { examples?: unknown }
  if (!Array.isArray(examples)) return undefined
  return examples.map((example: unknown) => {
    if (typeof example !== 'object' || example === null) return example
    const { metadata: _metadata, ...rest } = example as Record<string, unknown>
    return rest
  })
}
