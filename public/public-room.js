import { api, connect, request, session } from './net.js'
import { byId, el, onSubmit, say, sayError } from './dom.js'
import { cannotConnect } from './errors.js'

/* global document, setInterval */
const LIST_REFRESH_MS = 5_000

// Public rooms (CONTRACT §4, seed 000): REST to create, list and look up rooms and to make an
// anonymous user; the `/public-room/:roomId` namespace for join-room, user-joined/user-left
// (live occupancy) and the server's idle `ping`, answered with `pong`.
export function setupPublicRoom () {
  const error = byId('public-error')
  const status = byId('public-status')
  const list = byId('public-rooms')
  const joined = byId('public-joined')
  const occupancy = byId('public-occupancy')
  const participantList = byId('public-participants')
  const roomIdInput = byId('public-room-id')
  /** Anonymous users made by this tab, by name (they are bound to this IP by the server). */
  const users = new Map()
  let current = null

  function renderParticipants () {
    participantList.replaceChildren(...[...current.participants].map(([userId, userName]) =>
      el('li', { data: { userId } }, el('span', { text: userName }),
        userId === current.me.userId ? el('span', { class: 'you', text: '(you)' }) : '')))
  }

  function show (count) {
    occupancy.textContent = String(count)
    renderParticipants()
    // The room list's line for this room follows too, between two refreshes.
    const line = [...list.children].find((li) => li.dataset.roomId === current.room.id)?.querySelector('.meta')
    if (line) line.textContent = `${count}/${current.room.capacity} here`
  }

  /** Who was here before us (the socket only announces later arrivals), every page of them. */
  async function loadParticipants (state) {
    const path = `api/public/rooms/${encodeURIComponent(state.room.id)}/participants?limit=100`
    let cursor = null
    do {
      const page = await api(cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path)
      if (current !== state) return
      // Someone who left while the page was on its way is not put back.
      for (const p of page.participants) if (!state.departed.has(p.userId)) state.participants.set(p.userId, p.userName)
      cursor = page.nextCursor
    } while (cursor)
    renderParticipants()
  }

  async function refresh () {
    try {
      const { rooms } = await api('api/public/rooms?limit=20')
      list.replaceChildren(...rooms.map((room) => {
        const pick = el('button', { text: 'Pick', title: 'Put this room id in the join form' })
        pick.type = 'button'
        pick.addEventListener('click', () => { roomIdInput.value = room.id })
        return el('li', { data: { roomId: room.id, occupancy: room.currentOccupancy } },
          el('span', { text: room.name }),
          el('span', { class: 'meta', text: `${room.currentOccupancy}/${room.capacity} here` }),
          pick)
      }))
      if (rooms.length === 0) list.replaceChildren(el('li', { class: 'meta', text: 'No rooms yet.' }))
    } catch (err) {
      sayError(error, err)
    }
  }

  function leave () {
    if (!current) return
    const { socket, me } = current
    current = null
    joined.hidden = true
    participantList.replaceChildren()
    say(status, 'Left the room.')
    if (!socket.connected) return socket.disconnect()
    // The server disconnects the socket once it has answered.
    request(socket, 'leave-room', { userId: me.userId }).catch(() => {}).finally(() => {
      socket.disconnect()
      refresh()
    })
  }

  async function join (roomId, userName) {
    leave()
    say(error, '')
    const room = await api(`api/public/rooms/${encodeURIComponent(roomId)}`)
    let me = users.get(userName)
    if (!me) {
      me = await api('api/public/users', { method: 'POST', body: { userName } })
      users.set(userName, me)
    }
    const socket = connect(`/public-room/${room.id}`)
    const state = { socket, me, room, participants: new Map(), departed: new Set() }
    current = state
    byId('public-current').textContent = room.name
    joined.hidden = false
    show(room.currentOccupancy)
    say(status, 'Connecting…')

    socket.on('connect', async () => {
      say(status, `Connected (${socket.io.engine.transport.name}).`)
      try {
        // Seed clients say join-room on every connect: a reconnect rejoins.
        const reply = await request(socket, 'join-room', { userId: me.userId, userName: me.userName })
        if (current !== state) return
        state.participants.set(me.userId, me.userName)
        show(reply.currentOccupancy)
        await loadParticipants(state)
        refresh()
      } catch (err) {
        if (current === state) sayError(error, err)
      }
    })
    socket.on('user-joined', (event) => {
      if (current !== state) return
      state.participants.set(event.userId, event.userName)
      state.departed.delete(event.userId)
      show(event.currentOccupancy)
    })
    socket.on('user-left', (event) => {
      if (current !== state) return
      state.participants.delete(event.userId)
      state.departed.add(event.userId)
      show(event.currentOccupancy)
    })
    socket.on('ping', () => { socket.emit('pong') })
    socket.on('error', (err) => { sayError(error, err) })
    socket.on('connect_error', (err) => { sayError(error, cannotConnect(err)) })
    socket.on('disconnect', (reason) => {
      if (current !== state) return
      if (reason === 'io server disconnect') {
        // Refused (room gone, too many connections) or timed out: the server said why in `error`.
        current = null
        joined.hidden = true
        say(status, 'Disconnected by the server.')
      } else {
        say(status, `Connection lost (${reason}); reconnecting…`)
      }
    })
  }

  onSubmit(byId('public-join-form'), async () => {
    try {
      await join(roomIdInput.value.trim(), byId('public-name').value.trim())
    } catch (err) {
      sayError(error, err)
    }
  })

  byId('public-leave').addEventListener('click', leave)
  byId('public-refresh').addEventListener('click', refresh)

  onSubmit(byId('public-create-form'), async () => {
    say(error, '')
    try {
      const capacity = Number.parseInt(byId('public-room-capacity').value, 10)
      const room = await api('api/public/rooms', {
        method: 'POST',
        token: session.token,
        body: { name: byId('public-room-name').value.trim(), ...(Number.isInteger(capacity) ? { capacity } : {}) }
      })
      roomIdInput.value = room.id
      say(status, `Created "${room.name}"; its id is in the join form.`)
      await refresh()
    } catch (err) {
      sayError(error, err)
    }
  })

  // Occupancy of the other rooms: polled while the page is in view.
  setInterval(() => { if (document.visibilityState === 'visible') refresh() }, LIST_REFRESH_MS)

  session.onChange(({ user }) => {
    byId('public-create').disabled = !user
    const name = byId('public-name')
    if (user && !name.value) name.value = user.displayName
  })
  refresh()
}
