/* global fetch, sessionStorage */
import { io } from './socket.io/socket.io.esm.min.js'

// Everything is relative to where the page is served, so it works under a route prefix too:
// REST at `<prefix>/api/...`, Socket.IO at `<prefix>/socket.io` (which also serves its client).
const base = new URL('.', import.meta.url)
const socketPath = `${base.pathname}socket.io`

/** A REST error with the contract's `{code, message}`. */
export class ApiError extends Error {
  constructor (code, message, status) {
    super(message)
    this.code = code
    this.status = status
  }
}

/** JSON in, JSON out; a reply that is not 2xx throws an ApiError carrying its code. */
export async function api (path, { method = 'GET', body, token } = {}) {
  const headers = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(new URL(path, base), {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  let data = null
  try { data = text ? JSON.parse(text) : null } catch { data = null }
  if (!res.ok) throw new ApiError(data?.code ?? `HTTP_${res.status}`, data?.message ?? res.statusText, res.status)
  return data
}

/**
 * A Socket.IO client for one namespace of this server, on its own connection (so each panel
 * has its own auth and lifetime). WebSocket first; long-polling if a proxy refuses it.
 */
export function connect (namespace, options = {}) {
  return io(`${base.origin}${namespace}`, {
    path: socketPath, forceNew: true, transports: ['websocket', 'polling'], tryAllTransports: true, ...options
  })
}

/** Emits with an ack and resolves with the reply; an `{ok: false, error}` reply rejects. */
export function request (socket, event, payload, ms = 10_000) {
  return new Promise((resolve, reject) => {
    socket.timeout(ms).emit(event, payload, (err, reply) => {
      if (err) return reject(new Error(`no answer to ${event}`))
      if (reply && reply.ok === false) return reject(new ApiError(reply.error?.code ?? 'ERROR', reply.error?.message ?? 'failed'))
      resolve(reply)
    })
  })
}

/** The signed-in user (per tab), and who wants to hear when it changes. */
export const session = {
  token: null,
  user: null,
  listeners: new Set(),

  restore () {
    try {
      const saved = JSON.parse(sessionStorage.getItem('roomwire-demo') ?? 'null')
      if (saved?.token && saved?.user) Object.assign(this, { token: saved.token, user: saved.user })
    } catch { /* nothing saved, or storage refused */ }
  },

  set (token, user) {
    this.token = token
    this.user = user
    try {
      if (token) sessionStorage.setItem('roomwire-demo', JSON.stringify({ token, user }))
      else sessionStorage.removeItem('roomwire-demo')
    } catch { /* storage refused: the session lasts until reload */ }
    for (const listener of this.listeners) listener(this)
  },

  onChange (listener) {
    this.listeners.add(listener)
    listener(this)
  }
}
