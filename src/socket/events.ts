import type { Socket } from 'socket.io'
import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { AppError, isAppError, toWireError, type WireError } from '../errors.js'

type Ack = (reply: unknown) => void

export interface EventDefinition<T extends TSchema = TSchema> {
  schema: T
  /** Rate limit checked after validation and before the handler; resolves false to refuse. */
  limit?: (socket: Socket, payload: Static<T>) => Promise<boolean>
  /** What it resolves to is the ack's reply (`{ ok: true }` when nothing). */
  handler: (payload: Static<T>, socket: Socket) => unknown
}

interface CompiledEvent {
  name: string
  check: ReturnType<typeof Compile>
  definition: EventDefinition
}

/** Keeps the payload type of each handler tied to its schema inside a table. */
export function on<T extends TSchema> (
  schema: T,
  handler: EventDefinition<T>['handler'],
  options: Omit<EventDefinition<T>, 'schema' | 'handler'> = {}
): EventDefinition<T> {
  return { schema, handler, ...options }
}

export interface EventTableOptions {
  /** The namespace's error event: `error` or `room:error`. */
  errorEvent: string
  /** Code for failures that are not AppErrors (seed 000 uses JOIN_ERROR etc. per event). */
  fallbackCode?: string | ((event: string) => string)
  onUnexpected?: (err: unknown, event: string, socket: Socket) => void
}

function validationMessage (compiled: CompiledEvent, payload: unknown): string {
  const first = [...compiled.check.Errors(payload)][0]
  if (!first) return `Invalid payload for ${compiled.name}`
  const where = first.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : 'payload'
  return `Invalid ${compiled.name}: ${where} ${first.message}`
}

/**
 * One wrapper for every socket event of a namespace: validate → rate-limit → run → map errors →
 * ack. A handler holds only its own logic; nothing a client sends reaches it unchecked.
 */
export function createEventTable (table: Record<string, EventDefinition<any>>, options: EventTableOptions) {
  const events: CompiledEvent[] = Object.entries(table).map(([name, definition]) => ({
    name, definition, check: Compile(definition.schema)
  }))
  const fallback = (event: string) => typeof options.fallbackCode === 'function'
    ? options.fallbackCode(event)
    : options.fallbackCode ?? 'INTERNAL_ERROR'

  async function dispatch (compiled: CompiledEvent, socket: Socket, args: unknown[]): Promise<void> {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() as Ack : undefined
    const payload = args[0]
    try {
      if (!compiled.check.Check(payload)) throw new AppError('INVALID_REQUEST', validationMessage(compiled, payload))
      const { limit, handler } = compiled.definition
      if (limit && !(await limit(socket, payload))) throw new AppError('RATE_LIMITED', 'Too many requests. Slow down.')
      const result = await handler(payload, socket)
      if (ack) ack(result === undefined ? { ok: true } : result)
    } catch (err) {
      if (!isAppError(err)) options.onUnexpected?.(err, compiled.name, socket)
      const wire: WireError = toWireError(err, fallback(compiled.name))
      if (socket.connected) socket.emit(options.errorEvent, wire)
      if (ack) ack({ ok: false, error: wire })
    }
  }

  return {
    names: events.map(e => e.name),
    bind (socket: Socket): void {
      for (const compiled of events) {
        socket.on(compiled.name, (...args: unknown[]) => { dispatch(compiled, socket, args).catch(() => {}) })
      }
    }
  }
}

export type EventTable = ReturnType<typeof createEventTable>
