import type { TSchema } from 'typebox'
import { AckError, namespaceEvents, type NamespaceEvents } from './contract/events.js'

export interface AsyncApiOptions {
  title?: string
  version?: string
  /** Host (and port) clients connect to, for the `servers` entry. */
  host?: string
  /** Socket.IO's HTTP path (`${prefix}/socket.io`). */
  path?: string
}

type Json = Record<string, unknown>

/** AsyncAPI keys allow `[A-Za-z0-9._-]`: `room:join` is keyed `room.join` (its `name` stays `room:join`). */
export const messageKey = (event: string): string => event.replace(/[^A-Za-z0-9._-]/g, '.')

/**
 * TypeBox output as plain JSON Schema: symbols dropped, and TypeBox's non-JSON kinds
 * (`undefined`, `void`: "no payload") removed from unions; what is left is draft-07.
 */
export function jsonSchema (schema: TSchema): Json {
  const plain = JSON.parse(JSON.stringify(schema)) as Json
  return clean(plain)
}

function clean (node: Json): Json {
  for (const [key, value] of Object.entries(node)) {
    if (Array.isArray(value)) {
      const kept = value
        .filter(v => !(typeof v === 'object' && v !== null && (v.type === 'undefined' || v.type === 'void')))
        .map(v => typeof v === 'object' && v !== null ? clean(v as Json) : v)
      node[key] = kept
      if ((key === 'anyOf' || key === 'oneOf') && kept.length < value.length) {
        node.description = [node.description, 'The payload may also be left out.'].filter(Boolean).join(' ')
      }
    } else if (typeof value === 'object' && value !== null) {
      node[key] = clean(value as Json)
    }
  }
  return node
}

function namespaceDocument (channel: string, ns: NamespaceEvents, json: Json) {
  const channels = json.channels as Json
  const operations = json.operations as Json
  const messages: Json = {}
  const channelRef = { $ref: `#/channels/${channel}` }
  const messageRef = (key: string) => ({ $ref: `#/channels/${channel}/messages/${key}` })

  for (const [event, spec] of Object.entries(ns.client)) {
    const key = messageKey(event)
    messages[key] = {
      name: event,
      title: event,
      summary: spec.summary,
      description: `Client → server. Validated before any work; a bad payload answers \`${ns.errorEvent}\` with INVALID_REQUEST.`,
      payload: jsonSchema(spec.payload)
    }
    messages[`${key}.ack`] = {
      name: `${event} (ack)`,
      title: `${event} ack`,
      summary: `What the ack callback of \`${event}\` receives (not an event).`,
      payload: { oneOf: [jsonSchema(spec.reply), jsonSchema(AckError)] }
    }
    operations[`${channel}.${key}`] = {
      action: 'receive',
      channel: channelRef,
      summary: spec.summary,
      messages: [messageRef(key)],
      reply: { channel: channelRef, messages: [messageRef(`${key}.ack`)] }
    }
  }
  for (const [event, spec] of Object.entries(ns.server)) {
    const key = `${messageKey(event)}.out`
    messages[key] = {
      name: event,
      title: event,
      summary: spec.summary,
      description: 'Server → client.',
      ...(spec.payload ? { payload: jsonSchema(spec.payload) } : {})
    }
    operations[`${channel}.${key}`] = {
      action: 'send',
      channel: channelRef,
      summary: spec.summary,
      messages: [messageRef(key)]
    }
  }
  const parameters = ns.address.includes('{roomId}')
    ? { parameters: { roomId: { description: 'The public room id (REST `POST /api/public/rooms`).' } } }
    : {}
  channels[channel] = { address: ns.address, title: ns.address, description: ns.summary, ...parameters, messages }
}

/**
 * The AsyncAPI 3.0.0 document of every namespace: one channel each, a `receive` operation (with
 * the ack as its `reply`) per client event and a `send` operation per server event. The
 * document describes the roomwire server, so "send" is server → client.
 */
export function buildAsyncApi (options: AsyncApiOptions = {}): Json {
  const { title = 'roomwire', version = '0.0.0', host = 'localhost:3000', path = '/socket.io' } = options
  const json: Json = {
    asyncapi: '3.0.0',
    info: {
      title: `${title} socket events`,
      version,
      description: 'Socket.IO namespaces of roomwire. Every payload is checked against the schema shown; an event ' +
        'that fails answers the namespace\'s error event `{code, message}` and, with an ack, `{ok: false, error}`.'
    },
    defaultContentType: 'application/json',
    servers: {
      roomwire: { host, protocol: 'ws', pathname: path, description: 'Socket.IO (engine.io over WebSocket or HTTP long-polling).' }
    },
    channels: {},
    operations: {}
  }
  for (const [channel, ns] of Object.entries(namespaceEvents)) namespaceDocument(channel, ns, json)
  return json
}
