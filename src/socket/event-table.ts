import type { Server, Socket } from 'socket.io'
import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { AppError, isAppError, toWireError, type WireError } from '../errors.js'
import { addAnyListener } from './workarounds.js'

type Ack = (reply: unknown) => void

export interface EventDefinition<T extends TSchema = TSchema> {
  schema: T
  /** Rate limit checked after validation and before the handler; resolves false to refuse. */
  limit?: (socket: Socket, payload: Static<T>) => Promise<boolean>
  /** What it resolves to is the ack's reply (`{ ok: true }` when nothing). */
  /** `withAck`: the client passed an ack callback (some seed events answer by event otherwise). */
  handler: (payload: Static<T>, socket: Socket, withAck: boolean) => unknown
}

interface CompiledEvent {
  name: string
  check: ReturnType<typeof Compile>
  definition: EventDefinition
}

// By Socket.IO server: one app's observer and tables never meet another app's in the same process.
const observers = new WeakMap<Server, EventObserver>()
const registered = new WeakMap<Server, Set<EventTable>>()

/** Every event of every table bound to `io`'s sockets is reported to `observer` from now on. */
export function observeEvents (io: Server, observer: EventObserver): void {
  observers.set(io, observer)
}

/** The observer of `io`'s events, if one was set. */
export function observerOf (io: Server): EventObserver | undefined {
  return observers.get(io)
}

/** Makes a namespace's table known by its server (for the docs' tests and tools). */
export function registerEventTable (io: Server, table: EventTable): void {
  let tables = registered.get(io)
  if (!tables) registered.set(io, (tables = new Set()))
  tables.add(table)
}

/** The tables registered on `io`: what the server actually handles, per namespace. */
export function eventTablesOf (io: Server): EventTable[] {
  return [...(registered.get(io) ?? [])]
}

/** Keeps the payload type of each handler tied to its schema inside a table. */
export function on<T extends TSchema> (
  schema: T,
  handler: EventDefinition<T>['handler'],
  options: Omit<EventDefinition<T>, 'schema' | 'handler'> = {}
): EventDefinition<T> {
  return { schema, handler, ...options }
}

/**
 * What an observer (the metrics plugin) is told about one event of one table. Resolved once per
 * table and event when the first socket binds, so dispatch only counts.
 */
export interface EventProbe {
  received (): void
  /** Refused with RATE_LIMITED (the table's limit or the handler's own). */
  rateLimited (): void
  failed (code: string): void
  /** Seconds from arrival to the ack (validation, limit and handler included). */
  handled (seconds: number): void
}

export interface EventObserver {
  probe (namespace: string, event: string): EventProbe
  /** An event dropped by the inbound budget (any name: not labelled by event). */
  dropped? (namespace: string): void
  /** A connection dropped because too many outgoing bytes waited for it. */
  slowConsumer? (): void
}

export interface EventTableOptions {
  /** The namespace as documented (`/sync`, `/`, `/public-room/{roomId}`): the label of its metrics. */
  namespace: string
  /** The namespace's error event: `error` or `room:error`. */
  errorEvent: string
  /** Code for failures that are not AppErrors (seed 000 uses JOIN_ERROR etc. per event). */
  fallbackCode?: string | ((event: string) => string)
  onUnexpected?: (err: unknown, event: string, socket: Socket) => void
  /** How the error event reaches the socket (default `socket.emit`); the socket session writes it at once. */
  emitError?: (socket: Socket, event: string, wire: WireError) => void
  /**
   * Sees every event a socket sends (valid, invalid or unknown) before anything else: the seat of
   * the inbound budget (issue 16). Returning false drops the event unanswered.
   */
  inbound?: (socket: Socket, event: unknown) => boolean
}

function unknownEvent (event: unknown): WireError {
  const name = typeof event === 'string' ? event.slice(0, 64) : typeof event
  return { code: 'UNKNOWN_EVENT', message: `Unknown event: ${name}` }
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
  const emitError = options.emitError ?? ((socket: Socket, event: string, wire: WireError) => { socket.emit(event, wire) })
  const inbound = options.inbound

  async function dispatch (compiled: CompiledEvent, probe: EventProbe | undefined, socket: Socket, args: unknown[]): Promise<void> {
    const started = probe === undefined ? 0 : performance.now()
    probe?.received()
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() as Ack : undefined
    const payload = args[0]
    try {
      if (!compiled.check.Check(payload)) throw new AppError('INVALID_REQUEST', validationMessage(compiled, payload))
      const { limit, handler } = compiled.definition
      if (limit && !(await limit(socket, payload))) throw new AppError('RATE_LIMITED', 'Too many requests. Slow down.')
      const result = await handler(payload, socket, ack !== undefined)
      if (ack) ack(result === undefined ? { ok: true } : result)
    } catch (err) {
      if (!isAppError(err)) options.onUnexpected?.(err, compiled.name, socket)
      const wire: WireError = toWireError(err, fallback(compiled.name))
      if (probe !== undefined) {
        probe.failed(wire.code)
        if (wire.code === 'RATE_LIMITED') probe.rateLimited()
      }
      if (socket.connected) emitError(socket, options.errorEvent, wire)
      if (ack) ack({ ok: false, error: wire })
    } finally {
      if (probe !== undefined) probe.handled((performance.now() - started) / 1000)
    }
  }

  // The probes of the observer last seen, in the order of `events` (one observer per server).
  let observed: { observer: EventObserver, probes: EventProbe[] } | undefined
  function probesFor (socket: Socket): EventProbe[] | undefined {
    const observer = observers.get(socket.nsp.server)
    if (observer === undefined) return undefined
    if (observed?.observer !== observer) {
      observed = { observer, probes: events.map(e => observer.probe(options.namespace, e.name)) }
    }
    return observed.probes
  }

  const indexOf = new Map(events.map((compiled, i) => [compiled.name, i]))
  /**
   * ONE listener for every socket of the table (Socket.IO calls `onAny` listeners with the
   * socket as `this`): a connection costs one array slot, not a closure and a listener per event.
   * An event the table does not know answers its ack, if it has one, with UNKNOWN_EVENT.
   */
  function onEvent (this: Socket, event: unknown, ...args: unknown[]): void {
    if (inbound !== undefined && !inbound(this, event)) return
    const i = typeof event === 'string' ? indexOf.get(event) : undefined
    if (i === undefined) {
      const ack = args[args.length - 1]
      if (typeof ack === 'function') (ack as Ack)({ ok: false, error: unknownEvent(event) })
      return
    }
    dispatch(events[i], probesFor(this)?.[i], this, args).catch(() => {})
  }

  return {
    namespace: options.namespace,
    names: events.map(e => e.name),
    /** The schema each event's payload is checked against. */
    schemas: Object.fromEntries(events.map(e => [e.name, e.definition.schema])) as Record<string, TSchema>,
    bind (socket: Socket): void {
      addAnyListener(socket, onEvent)
    }
  }
}

export type EventTable = ReturnType<typeof createEventTable>
