/**
 * The socket session every namespace shares (defineNamespace): per-socket state, every event of
 * one socket run in arrival order (its connect step first, its disconnect step last), work in
 * flight waited for at close, errors written to the socket at once, the event table registered
 * for the docs, and one `onAny` and one `disconnect` listener for all sockets.
 */
import type { Namespace, Socket } from 'socket.io'
import type { Static, TSchema } from 'typebox'
import type { WireError } from '../errors.js'
import { createEventTable, observerOf, registerEventTable, type EventDefinition, type EventTable } from './event-table.js'
import { inboundBudgetOf, type InboundBudget, type SocketBudget } from './inbound-budget.js'
import type { ServerEventMap } from './emission.js'
import { createOutbox, type Outbox, type OutboxOptions } from './outbox.js'

/** What a handler (or the connect/disconnect step) of one socket is given. */
export interface SocketContext<S, M extends ServerEventMap = ServerEventMap> {
  socket: Socket
  session: S
  /** The client passed an ack callback (some events answer by event otherwise). */
  withAck: boolean
  /** The outbox of the socket's own namespace (a dynamic child's, under a parent). */
  outbox: Outbox<M>
}

export interface NamespaceEvent<T extends TSchema, S, M extends ServerEventMap> {
  schema: T
  /** Rate limit checked after validation and before the handler; resolves false to refuse. */
  limit?: (payload: Static<T>, ctx: SocketContext<S, M>) => Promise<boolean>
  /** What it resolves to is the ack's reply (`{ ok: true }` when nothing). */
  handler: (payload: Static<T>, ctx: SocketContext<S, M>) => unknown
  /** false: runs at once, beside the socket's queue (a clock or a pong needs no order). */
  ordered?: boolean
}

/** One event of a namespace's table: its payload type tied to its schema. */
export function on<T extends TSchema, S = any, M extends ServerEventMap = any> (
  schema: T,
  handler: NamespaceEvent<T, S, M>['handler'],
  options: Omit<NamespaceEvent<T, S, M>, 'schema' | 'handler'> = {}
): NamespaceEvent<T, S, M> {
  return { schema, handler, ...options }
}

export interface NamespaceLog {
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

export interface NamespaceOptions<S, M extends ServerEventMap> {
  /** A namespace, or the parent namespace of dynamic children. */
  nsp: Namespace
  /** The namespace as documented (`/sync`, `/`, `/public-room/{roomId}`). */
  name: string
  /** The namespace's error event: `error` or `room:error`. */
  errorEvent: keyof M & string
  /** Code for failures that are not AppErrors. */
  fallbackCode?: string | ((event: string) => string)
  log: NamespaceLog
  /** The per-socket state, made when the socket connects. */
  session: (socket: Socket) => S
  /** First in the socket's queue; when it fails, every later event of the socket fails with its error. */
  connect?: (ctx: SocketContext<S, M>) => Promise<void>
  /** Last in the socket's queue. */
  disconnect?: (ctx: SocketContext<S, M>, reason: string) => Promise<void>
  events: Record<string, NamespaceEvent<any, S, M>>
  /** Also told of every queued step (e.g. a plugin whose close must outlast the socket work). */
  track?: (work: Promise<unknown>) => void
  /**
   * The key of an anonymous socket's IP (its hashed address), whose sockets share one inbound
   * budget besides their own; undefined for a signed-in socket.
   */
  anonymousIp?: (session: S) => string | undefined
  /** A handler failed with something other than an AppError (default: logged as an error). */
  onUnexpected?: (err: unknown, event: string, socket: Socket) => void
  outbox?: OutboxOptions
}

/** One socket's entry: its session, and only while something is queued, the queue's tail. */
interface Entry<S> {
  session: S
  tail: Promise<unknown> | undefined
  /** The connect step's error, once it failed. */
  failure: { error: unknown } | undefined
  /**
   * Its inbound budget, when the server has one: an anonymous socket's from its connect (its IP's
   * shared bucket counts it), a signed-in socket's from its first event (an idle one holds none).
   */
  budget: SocketBudget | undefined
}

const OVER_BUDGET: WireError = { code: 'RATE_LIMITED', message: 'Too many events. Slow down.' }

export function defineNamespace<S, M extends ServerEventMap = ServerEventMap> (options: NamespaceOptions<S, M>) {
  const { nsp, log } = options
  const io = nsp.server
  // Each socket's entry, as a property of the socket under a symbol of this definition: read on
  // every event, and a WeakMap entry cost an idle connection more heap than the property.
  const ENTRY = Symbol(`roomwire entry ${options.name}`)
  const entries = {
    get: (socket: Socket): Entry<S> | undefined => (socket as unknown as Record<symbol, Entry<S> | undefined>)[ENTRY],
    set: (socket: Socket, entry: Entry<S>): void => { (socket as unknown as Record<symbol, Entry<S>>)[ENTRY] = entry }
  }
  const inflight = new Set<Promise<unknown>>()
  const outboxes = new WeakMap<Namespace, Outbox<M>>()

  function outboxOf (namespace: Namespace): Outbox<M> {
    let outbox = outboxes.get(namespace)
    if (outbox === undefined) outboxes.set(namespace, (outbox = createOutbox<M>(namespace, options.outbox)))
    return outbox
  }

  function entryOf (socket: Socket): Entry<S> {
    const entry = entries.get(socket)
    if (entry === undefined) throw new Error(`socket ${socket.id} has no session on ${options.name}`)
    return entry
  }

  const contextOf = (socket: Socket, withAck: boolean): SocketContext<S, M> =>
    ({ socket, session: entryOf(socket).session, withAck, outbox: outboxOf(socket.nsp) })

  /** Queues `work` after everything the socket has queued; close() waits for it. */
  function run<T> (socket: Socket, work: () => Promise<T> | T): Promise<T> {
    const entry = entryOf(socket)
    const result = (entry.tail ?? Promise.resolve()).then(work)
    const tail: Promise<unknown> = result.then(settled, settled)
    entry.tail = tail
    function settled (): void {
      if (entry.tail === tail) entry.tail = undefined
      inflight.delete(tail)
    }
    inflight.add(tail)
    options.track?.(tail)
    return result
  }

  /** The table's handler for one event: the connect step's failure first, then the socket's queue. */
  function handlerOf (definition: NamespaceEvent<any, S, M>): EventDefinition['handler'] {
    const invoke = (payload: unknown, socket: Socket, withAck: boolean) => {
      const { failure } = entryOf(socket)
      if (failure !== undefined) throw failure.error
      return definition.handler(payload, contextOf(socket, withAck))
    }
    if (definition.ordered === false) return invoke
    return (payload, socket, withAck) => run(socket, () => invoke(payload, socket, withAck))
  }

  const definitions: Record<string, EventDefinition> = {}
  for (const [event, definition] of Object.entries(options.events)) {
    const { limit } = definition
    definitions[event] = {
      schema: definition.schema,
      handler: handlerOf(definition),
      ...(limit === undefined ? {} : { limit: (socket: Socket, payload: unknown) => limit(payload, contextOf(socket, false)) })
    }
  }

  const table: EventTable = createEventTable(definitions, {
    namespace: options.name,
    errorEvent: options.errorEvent,
    fallbackCode: options.fallbackCode,
    onUnexpected: options.onUnexpected ?? ((err, event, socket) => {
      log.error({ err, event, namespace: socket.nsp.name }, 'socket event failed')
    }),
    emitError: (socket, event, wire: WireError) => { outboxOf(socket.nsp).writeErrorAtOnce(socket, event, wire) },
    inbound: admit
  })
  registerEventTable(io, table)

  /** Every event a socket sends, before anything else: charged to its budget, dropped when over. */
  function admit (socket: Socket, _event: unknown): boolean {
    const entry = entries.get(socket)
    const inbound = budgetOf(socket)
    if (entry === undefined || inbound === undefined) return true
    const now = performance.now()
    const verdict = inbound.charge(entry.budget ??= inbound.open(now), now)
    if (verdict === 'admit') return true
    observerOf(io)?.dropped?.(options.name)
    if (verdict === 'drop-and-notify') outboxOf(socket.nsp).writeErrorAtOnce(socket, options.errorEvent, OVER_BUDGET)
    if (verdict === 'disconnect') {
      log.warn({ namespace: socket.nsp.name, socketId: socket.id }, 'socket over its inbound budget for too long: disconnected')
      socket.disconnect(true)
    }
    return false
  }

  const budgetOf = (socket: Socket): InboundBudget | undefined => inboundBudgetOf(socket.nsp.server)

  // ONE listener for every socket (EventEmitter calls it with the socket as `this`).
  function onDisconnect (this: Socket, reason: string): void {
    const socket = this
    const budget = entries.get(socket)?.budget
    if (budget !== undefined) budgetOf(socket)?.close(budget)
    const { disconnect } = options
    if (disconnect === undefined) return
    run(socket, () => disconnect(contextOf(socket, false), reason)).catch((err: unknown) => {
      log.warn({ err, namespace: socket.nsp.name, socketId: socket.id }, 'socket disconnect handling failed')
    })
  }

  nsp.on('connection', (socket: Socket) => {
    const session = options.session(socket)
    const ip = options.anonymousIp?.(session)
    const budget = ip === undefined ? undefined : budgetOf(socket)?.open(performance.now(), ip)
    const entry: Entry<S> = { session, tail: undefined, failure: undefined, budget }
    entries.set(socket, entry)
    table.bind(socket)
    socket.on('disconnect', onDisconnect)
    const { connect } = options
    if (connect === undefined) return
    run(socket, () => connect(contextOf(socket, false))).catch((error: unknown) => {
      entry.failure = { error }
    })
  })

  return {
    name: options.name,
    table,
    /** The session of a connected (or just disconnected) socket of this namespace. */
    sessionOf (socket: Socket): S {
      return entryOf(socket).session
    },
    /** Queues extra work in the socket's order (it runs after everything queued so far). */
    run,
    /** The outbox of `namespace` (this one's, or a dynamic child's). */
    outboxOf,
    /** Resolves once every queued step has settled, including steps queued while waiting. */
    async close (): Promise<void> {
      while (inflight.size > 0) await Promise.allSettled([...inflight])
    }
  }
}

export type DefinedNamespace<S = any, M extends ServerEventMap = any> = ReturnType<typeof defineNamespace<S, M>>
