import WebSocket from 'ws'

/**
 * A minimal Socket.IO (protocol 5, Engine.IO 4, WebSocket transport) client for the join
 * storm. A storm of N joins makes the literal seed-003 server send ~N³/3 list entries
 * (gigabytes at N = 1,000): socket.io-client would spend the run parsing JSON, and the client
 * would be what is measured. This one parses nothing it receives: it counts bytes, answers
 * pings, and counts the entries of the latest `users_online` list with a native scan
 * (`Buffer.indexOf`), which is exact for lists of `{userId, username}`.
 */
export interface StormSocket {
  /** Bytes of every message frame received since the last reset. */
  bytes: number
  /** Entries of the latest `users_online` (-1: none yet). */
  listLength: number
  /** When the latest `users_online` arrived (performance.timeOrigin + performance.now()). */
  listAt: number
  join (room: string, timeoutMs: number): Promise<void>
  close (): void
}

const now = () => performance.timeOrigin + performance.now()
const LIST = Buffer.from('42["users_online",')
const ENTRY = Buffer.from('"userId"')

function count (data: Buffer, needle: Buffer, from: number): number {
  let n = 0
  for (let at = data.indexOf(needle, from); at !== -1; at = data.indexOf(needle, at + needle.length)) n++
  return n
}

export async function openStormSocket (url: string, token: string, timeoutMs: number): Promise<StormSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`)
  const acks = new Map<number, (frame: string) => void>()
  let nextAck = 0
  let connected: ((error?: Error) => void) | undefined
  const socket: StormSocket = {
    bytes: 0,
    listLength: -1,
    listAt: 0,
    join (room, ms) {
      const id = nextAck++
      ws.send(`42${id}${JSON.stringify(['join_room', room])}`)
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { acks.delete(id); reject(new Error(`join ${room}: no ack in ${ms} ms`)) }, ms)
        acks.set(id, (frame) => {
          clearTimeout(timer)
          if (frame.includes('"ok":false')) reject(new Error(`join ${room}: ${frame}`))
          else resolve()
        })
      })
    },
    close () { ws.terminate() }
  }
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) return
    socket.bytes += data.length
    const type = data[0]
    if (type === 0x32) { // "2": Engine.IO ping
      ws.send('3')
    } else if (type === 0x30) { // "0": Engine.IO open: connect to the namespace "/" with the token
      ws.send(`40${JSON.stringify({ token })}`)
    } else if (type === 0x34) { // "4": Engine.IO message, a Socket.IO packet follows
      const packet = data[1]
      if (packet === 0x30) connected?.() // "40": connected
      else if (packet === 0x34) connected?.(new Error(`connect_error: ${data.toString()}`)) // "44"
      else if (packet === 0x32 && data.subarray(0, LIST.length).equals(LIST)) {
        socket.listLength = count(data, ENTRY, LIST.length)
        socket.listAt = now()
      } else if (packet === 0x33) { // "43<id>[…]": an ack
        const text = data.toString('latin1', 2, Math.min(data.length, 2 + 16))
        const id = Number(/^\d+/.exec(text)?.[0])
        const done = acks.get(id)
        if (done) {
          acks.delete(id)
          done(data.toString())
        }
      }
    }
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('storm socket: not connected in time')), timeoutMs)
    connected = (error) => {
      clearTimeout(timer)
      connected = undefined
      if (error) reject(error)
      else resolve()
    }
    ws.once('error', (err) => { clearTimeout(timer); reject(err) })
  })
  ws.on('error', () => {})
  return socket
}
