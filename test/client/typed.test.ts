import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import type { Socket } from 'socket.io-client'
import { buildTestApp, connect, connected, modes, once, registerUser } from '../helper.js'
import { createRoom, createUser } from '../public-rooms/fixtures.js'
import type {
  ChatClientToServerEvents, ChatServerToClientEvents, PublicRoomClientToServerEvents, PublicRoomServerToClientEvents,
  SyncClientToServerEvents, SyncServerToClientEvents, PlaybackState, ChannelMessage
} from '../../src/client.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')

/** The project's compiler options (strict, NodeNext), without emitting. */
function compilerOptions (): ts.CompilerOptions {
  const file = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile)
  return { ...ts.parseJsonConfigFileContent(file.config, ts.sys, root).options, noEmit: true }
}

/**
 * Type errors of `files`, compiled together with the project's options (one program: the lib and
 * package declarations are parsed and checked once); `sources` stand in for files' contents.
 */
function typeErrors (files: string[], sources: Record<string, string> = {}): ts.Diagnostic[] {
  const options = compilerOptions()
  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.fileExists = (name) => name in sources || fileExists(name)
  host.readFile = (name) => name in sources ? sources[name] : readFile(name)
  host.getSourceFile = (name, version, ...rest) => name in sources
    ? ts.createSourceFile(name, sources[name], version)
    : getSourceFile(name, version, ...rest)
  return [...ts.getPreEmitDiagnostics(ts.createProgram(files, options, host))]
}

const describe = (d: ts.Diagnostic) => {
  const where = d.file && d.start !== undefined ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : ''
  return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
}

t.test('the client types compile where they are used right, and refuse wrong payloads and events', async (t) => {
  const goodFile = join(here, 'fixtures', 'typed-usage.ts')
  const wrongFile = join(here, 'fixtures', 'wrong-usage.ts')
  const source = readFileSync(join(here, 'fixtures', 'wrong-usage.ts.txt'), 'utf8')
  const errors = typeErrors([goodFile, wrongFile], { [wrongFile]: source })
  t.same(errors.filter(d => d.file?.fileName === goodFile).map(describe), [], 'typed-usage.ts: 0 errors')

  const marked = source.split('\n').flatMap((line, i) => line.includes('// WRONG: ') ? [i + 1] : [])
  t.equal(marked.length, 10)
  const lines = new Set(errors.filter(d => d.file?.fileName === wrongFile && d.start !== undefined)
    .map(d => d.file!.getLineAndCharacterOfPosition(d.start!).line + 1))
  for (const line of marked) t.ok(lines.has(line), `line ${line} is an error: ${source.split('\n')[line - 1].split('// WRONG: ')[1]}`)
  t.same([...lines].filter(l => !marked.includes(l)), [], 'no error on a line used right')
  t.same(errors.filter(d => d.file?.fileName !== wrongFile && d.file?.fileName !== goodFile).map(describe), [], 'nothing else fails')
})

for (const mode of modes()) {
  t.test(`${mode}: typed sockets talk to a running app`, async (t) => {
    const { app, url } = await buildTestApp(t, { mode })
    const { token, user } = await registerUser(app, undefined, 'Grace')

    // /public-room/:roomId
    const room = await createRoom(app)
    const anonymous = await createUser(app, 'Ada')
    const visitor = connect(t, `${url}/public-room/${room.id}`) as Socket<PublicRoomServerToClientEvents, PublicRoomClientToServerEvents>
    await connected(visitor as Socket)
    const joinedEvent = once(visitor, 'user-joined')
    const joined = await visitor.emitWithAck('join-room', { userId: anonymous.userId, userName: 'Ada' })
    if (!joined.ok) throw new Error(joined.error.code)
    t.equal(joined.currentOccupancy, 1)
    t.equal((await joinedEvent).userName, 'Ada')

    // /sync
    const created = await app.inject({ method: 'POST', url: '/api/sync/rooms', headers: { authorization: `Bearer ${token}` }, payload: { name: 'Movie' } })
    const sync = connect(t, `${url}/sync`, { auth: { token } }) as Socket<SyncServerToClientEvents, SyncClientToServerEvents>
    await connected(sync as Socket)
    const state = once(sync, 'room:state')
    const reply = await sync.emitWithAck('room:join', { roomCode: created.json().code })
    if (!reply.ok) throw new Error(reply.error.code)
    t.equal(reply.room.name, 'Movie')
    t.equal((await state).participantId, reply.participantId)
    const playback = once<PlaybackState>(sync, 'playback:state')
    const updated = await sync.emitWithAck('playback:update', { action: 'play' })
    t.equal('status' in updated && updated.status, 'playing')
    t.equal((await playback).status, 'playing')
    const time = await sync.emitWithAck('sync:time', { clientTime: 1 })
    t.ok('serverTime' in time && time.clientTime === 1)

    // / (chat)
    const channel = await app.inject({ method: 'POST', url: '/api/channels', headers: { authorization: `Bearer ${token}` }, payload: { name: 'typed' } })
    const roomId: string = channel.json().channel.id
    const chat = connect(t, url, { auth: { token } }) as Socket<ChatServerToClientEvents, ChatClientToServerEvents>
    await connected(chat as Socket)
    const entered = await chat.emitWithAck('room:join', { roomId })
    t.ok(entered.ok && entered.first)
    const heard = once<ChannelMessage>(chat, 'message')
    const sent = await chat.emitWithAck('message', { roomId, content: 'typed hello' })
    if ('ok' in sent) throw new Error(sent.error.code)
    t.equal(sent.content, 'typed hello')
    const message = await heard
    t.equal(message.userId, user.id)
    t.equal(message.seq, sent.seq)
    const refused = await chat.emitWithAck('typing', { roomId: 'not-joined', isTyping: true })
    t.match(refused, { ok: false, error: { code: 'NOT_IN_ROOM' } })
  })
}
