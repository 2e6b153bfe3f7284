/**
 * What a domain service hands to the socket layer instead of touching Socket.IO: typed
 * emissions, checked at compile time against a namespace's server → client event map
 * (src/client.ts builds them from the contract's schemas), so a wrong event name or payload
 * does not compile. The outbox (outbox.ts) delivers them.
 */
import type { ChatServerToClientEvents, PublicRoomServerToClientEvents, SyncServerToClientEvents } from '../client.js'

/**
 * Who hears an emission: one socket (by id), some sockets (`instance`: all on that instance, so
 * only it is sent them), a Socket.IO room (minus some sockets), a user's sockets, everyone.
 */
export type Audience =
  | { socket: string }
  | { sockets: string[], instance?: string }
  | { room: string, except?: string[] }
  | { user: string }
  | { all: true }

/** A server → client event map: event name → listener. */
export type ServerEventMap = { [event: string]: (...args: any[]) => void }

/** An event without a payload is sent without one; any other carries exactly its payload type. */
type PayloadOf<F> = F extends (...args: infer A) => void
  ? A extends [] ? { payload?: undefined } : { payload: A[0] }
  : never

/** One event to one audience, its payload tied to its name by the map `M`. */
export type Emission<M extends ServerEventMap> = {
  [E in keyof M & string]: { to: Audience, event: E } & PayloadOf<M[E]>
}[keyof M & string]

export type SyncEmission = Emission<SyncServerToClientEvents>
export type ChatEmission = Emission<ChatServerToClientEvents>
export type PublicRoomEmission = Emission<PublicRoomServerToClientEvents>

/** Where a service hands its emissions when they arise outside a socket event (sweeps, deadlines, REST). */
export interface EmissionPort<M extends ServerEventMap> {
  send (...emissions: Array<Emission<M>>): void
}
