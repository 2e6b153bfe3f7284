import t from 'tap'
import { readFile } from 'node:fs/promises'
import { Parser } from '@asyncapi/parser'
import { buildTestApp, modes } from '../helper.js'
import { eventTablesOf } from '../../src/socket/event-table.js'
import { namespaceEvents } from '../../src/contract/events.js'
import { buildAsyncApi, jsonSchema } from '../../src/asyncapi.js'

type Doc = any

const ERROR = 0 // DiagnosticSeverity.Error

async function errorsOf (doc: unknown): Promise<string[]> {
  const diagnostics = await new Parser().validate(doc as Parameters<Parser['validate']>[0])
  return diagnostics.filter(d => d.severity === ERROR).map(d => `${d.code}: ${d.message} at ${d.path.join('/')}`)
}

function channelAt (doc: Doc, address: string): [string, any] {
  const found = Object.entries(doc.channels as Record<string, any>).find(([, c]) => c.address === address)
  if (!found) throw new Error(`no channel with address ${address}`)
  return found
}

/** Names of the messages of a channel used by operations of `action` ('receive': client → server). */
function eventsOf (doc: Doc, channelKey: string, action: 'send' | 'receive'): Map<string, any> {
  const out = new Map<string, any>()
  for (const op of Object.values(doc.operations as Record<string, any>)) {
    if (op.action !== action || op.channel.$ref !== `#/channels/${channelKey}`) continue
    for (const ref of op.messages) {
      const key = ref.$ref.split('/').pop()
      const message = doc.channels[channelKey].messages[key]
      out.set(message.name, { message, op })
    }
  }
  return out
}

// Where the server emits to clients, by namespace address. Every event name passed to an emit
// (`socket.emit`, `.to(...).emit`, a presenter's `emit(to, name, ...)`, `publish(rooms, name, ...)`),
// and every typed emission handed to an outbox (`{ to, event: 'name', payload }`, src/socket/emission.ts).
const EMITTERS: Record<string, string[]> = {
  '/public-room/{roomId}': ['src/public-rooms/namespace.ts', 'plugins/health-ping.ts'],
  '/sync': ['src/sync/namespace.ts', 'src/sync/service.ts'],
  '/': ['src/chat/vocabularies/wire.ts', 'src/chat/vocabularies/groups.ts', 'src/chat/service.ts', 'src/chat/namespace.ts', 'src/chat/presence.ts']
}
const TARGET = "(?:(?:\\w+\\s*\\?\\s*)?'(?:socket|room|others)'(?:\\s*:\\s*'(?:socket|room|others)')?,\\s*)?"
const EMISSION = /\bevent:\s*'([^']+)'(?=\s*(?:,\s*payload\b|\}))/g
const EMIT = new RegExp(`(?<!events\\.)\\b(?:emit|publish)\\((?:\\[[^\\]]*\\],\\s*)?${TARGET}(?:[\\w.!]+\\s*\\?\\s*)?'([^']+)'(?:\\s*:\\s*'([^']+)')?`, 'g')

async function emittedIn (files: string[]): Promise<Set<string>> {
  const names = new Set<string>()
  for (const file of files) {
    const source = await readFile(new URL(`../../${file}`, import.meta.url), 'utf8')
    for (const match of [...source.matchAll(EMIT), ...source.matchAll(EMISSION)]) {
      for (const name of match.slice(1)) if (name !== undefined) names.add(name)
    }
  }
  return names
}

for (const mode of modes()) {
  t.test(`${mode}: /asyncapi.json is a valid AsyncAPI 3 document with every event both ways`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const res = await fetch(`${url}/asyncapi.json`)
    t.equal(res.status, 200)
    const doc: Doc = await res.json()
    t.equal(doc.asyncapi, '3.0.0')
    t.same(await errorsOf(doc), [], '@asyncapi/parser reports no error')
    t.equal(doc.servers.roomwire.host, new URL(url).host, 'the server entry is where the client connected')
    t.equal(doc.servers.roomwire.pathname, '/socket.io')

    const tables = eventTablesOf(app.io)
    t.same(tables.map(table => table.namespace).sort(), ['/', '/public-room/{roomId}', '/sync'], 'one event table per namespace')
    for (const table of tables) {
      const [key, channel] = channelAt(doc, table.namespace)
      const received = eventsOf(doc, key, 'receive')
      t.ok(table.names.length > 0)
      for (const name of table.names) {
        const entry = received.get(name)
        t.ok(entry, `${table.namespace} ${name} is documented as a client → server operation`)
        t.same(entry?.message.payload, jsonSchema(table.schemas[name]), `${table.namespace} ${name}: the payload schema is the one the table validates with`)
        t.ok(entry?.op.reply?.messages?.length === 1, `${table.namespace} ${name}: its ack is the operation's reply`)
        const catalog = Object.values(namespaceEvents).find(ns => ns.address === table.namespace)!
        t.equal((catalog.client as Record<string, { payload: unknown }>)[name]?.payload, table.schemas[name], `${name}: the catalog holds the very schema object of the table`)
      }
      t.equal(received.size, table.names.length, `${table.namespace}: nothing documented that the server does not handle`)
      if (table.namespace.includes('{roomId}')) t.ok(channel.parameters?.roomId, 'the room id is a channel parameter')
    }

    for (const [address, files] of Object.entries(EMITTERS)) {
      const [key] = channelAt(doc, address)
      const sent = eventsOf(doc, key, 'send')
      const emitted = await emittedIn(files)
      t.ok(emitted.size > 0, `found the emits of ${address} in ${files.join(', ')}`)
      for (const name of emitted) t.ok(sent.has(name), `${address}: emitted '${name}' is documented as a server → client operation`)
      const catalog = Object.values(namespaceEvents).find(ns => ns.address === address)!
      t.ok(sent.has(catalog.errorEvent), `${address}: its error event ${catalog.errorEvent} is documented`)
    }
    // The scan finds emits in every shape the code uses (ternaries, presenters, publish, plain emit).
    t.ok((await emittedIn(EMITTERS['/'])).has('user_stop_typing'))
    t.ok((await emittedIn(EMITTERS['/'])).has('user:joined'))
    t.ok((await emittedIn(EMITTERS['/'])).has('user:status'))
    t.ok((await emittedIn(EMITTERS['/public-room/{roomId}'])).has('ping'))
    t.notOk((await emittedIn(EMITTERS['/'])).has('room:leave'), "the chat core's own events are not socket emits")
  })
}

t.test('the parser does flag a broken document (the check above can fail)', async (t) => {
  const doc: Doc = buildAsyncApi()
  const first = Object.keys(doc.operations)[0]
  doc.operations[first].action = 'sideways'
  t.not((await errorsOf(doc)).length, 0)
  const missing: Doc = buildAsyncApi()
  missing.operations[first].messages = [{ $ref: '#/channels/sync/messages/no-such-message' }]
  t.not((await errorsOf(missing)).length, 0)
})

t.test('payload schemas are plain JSON Schema: no TypeBox-only kinds', async (t) => {
  const text = JSON.stringify(buildAsyncApi())
  t.notMatch(text, /"type":"(undefined|void)"/)
  const leave = channelAt(buildAsyncApi(), '/sync')[1].messages['room.leave'].payload
  t.match(leave.description, /may also be left out/)
})
