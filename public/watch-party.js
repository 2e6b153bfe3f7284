/* global clearInterval, setInterval */
import { api, connect, request, session } from './net.js'
import { byId, el, onSubmit, say, sayError } from './dom.js'
import { cannotConnect } from './errors.js'
import { createVideoSync } from './video-sync.js'

const TICK_MS = 100
/** The project's own clip (ffmpeg's testsrc2, 20 s, looped) when the room names no media. */
const DEFAULT_MEDIA = 'clip.webm'
/** Clock samples per estimate; the one with the shortest round trip is kept. */
const CLOCK_SAMPLES = 5
/** Clocks drift apart slowly: the offset is measured again this often. */
const CLOCK_REFRESH_MS = 30_000

/** Seconds as m:ss.s. */
function formatPosition (seconds) {
  const tenths = Math.max(0, Math.floor(seconds * 10 + 1e-6))
  const minutes = Math.floor(tenths / 600)
  const rest = (tenths % 600) / 10
  return `${minutes}:${rest < 10 ? '0' : ''}${rest.toFixed(1)}`
}

// Watch party (CONTRACT §5, seed 002): REST to create a room (8-letter code), the `/sync`
// namespace to join it, share playback:update and follow playback:state. A <video> follows the
// shared position (position + elapsed server time × rate, server time from `sync:time`), and the
// timer shows that shared position.
export function setupWatchParty () {
  const status = byId('sync-status')
  const error = byId('sync-error')
  const joinedView = byId('sync-joined')
  const timer = byId('sync-timer')
  const stateLabel = byId('sync-state')
  const video = byId('sync-video')
  const driftLine = byId('sync-drift')
  let current = null
  let ticker = null
  let clockTimer = null
  const videoSync = createVideoSync(video, {
    shared: () => current?.playback
      ? { position: positionNow(current), rate: current.playback.rate, playing: current.playback.status === 'playing' }
      : null,
    onDrift: (drift, playing) => {
      const ms = Math.round(drift * 1000)
      driftLine.dataset.driftMs = String(ms)
      driftLine.textContent = `Video ${ms >= 0 ? '+' : ''}${ms} ms from the shared position${playing ? '' : ' (paused)'}; clock offset ${Math.round(current?.offset ?? 0)} ms`
    }
  })

  const fail = (err) => { sayError(error, err) }

  /** Where the shared timer is now; `offset` turns this browser's clock into the server's. */
  function positionNow (party) {
    const pb = party.playback
    if (!pb) return 0
    if (pb.status !== 'playing') return pb.position
    return pb.position + ((Date.now() + party.offset - pb.updatedAt) / 1000) * pb.rate
  }

  function renderTimer () {
    if (!current) return
    timer.textContent = formatPosition(positionNow(current))
    stateLabel.textContent = current.playback?.status ?? 'paused'
  }

  function renderParticipants () {
    const { participants, participantId } = current
    byId('sync-participants').replaceChildren(...[...participants.values()].map((p) => {
      const tags = [p.isHost ? 'host' : '', p.isGuest ? 'guest' : '', p.id === participantId ? 'you' : ''].filter(Boolean)
      return el('li', { data: { participantId: p.id } }, p.displayName, tags.length ? el('span', { class: 'you', text: `(${tags.join(', ')})` }) : '')
    }))
  }

  /** The playback's media, else the room's, else the project's clip. */
  function loadMedia () {
    const src = current.playback?.mediaUrl ?? current.room?.mediaUrl ?? DEFAULT_MEDIA
    videoSync.load(src, { loop: src === DEFAULT_MEDIA })
  }

  function setPlayback (playback) {
    current.playback = playback
    byId('sync-rate').value = String(playback?.rate ?? 1)
    loadMedia()
    videoSync.follow()
    const by = playback?.updatedBy ? current.participants.get(playback.updatedBy) : undefined
    byId('sync-updated-by').textContent = by ? `Last change by ${by.displayName}` : ''
    renderTimer()
  }

  function applyState (state) {
    Object.assign(current, {
      room: state.room,
      participantId: state.participantId,
      resumeToken: state.resumeToken ?? current.resumeToken,
      participants: new Map(state.participants.map((p) => [p.id, p]))
    })
    byId('sync-room').textContent = state.room.name
    byId('sync-room-code').textContent = state.room.code
    joinedView.hidden = false
    renderParticipants()
    setPlayback(state.playback)
  }

  function reset (message) {
    clearInterval(ticker)
    clearInterval(clockTimer)
    ticker = null
    clockTimer = null
    videoSync.stop()
    driftLine.textContent = ''
    current = null
    joinedView.hidden = true
    say(status, message)
  }

  /** Server clock minus this browser's, from the sample with the shortest round trip (NTP's rule). */
  async function measureOffset (party) {
    let best = null
    for (let i = 0; i < CLOCK_SAMPLES; i++) {
      const sent = Date.now()
      const { serverTime } = await request(party.socket, 'sync:time', { clientTime: sent })
      const received = Date.now()
      if (!best || received - sent < best.roundTrip) best = { roundTrip: received - sent, offset: serverTime - (sent + received) / 2 }
    }
    party.offset = best.offset
  }

  function leave () {
    if (!current) return
    const { socket } = current
    reset('Left the watch party.')
    request(socket, 'room:leave', {}).catch(() => {}).finally(() => socket.disconnect())
  }

  function join (roomCode) {
    leave()
    say(error, '')
    const guestName = byId('sync-guest-name').value.trim()
    if (!session.token && guestName === '') throw new Error('Give a guest name, or sign in')
    const socket = connect('/sync', { auth: session.token ? { token: session.token } : {} })
    const party = { socket, roomCode, offset: 0, playback: null, participants: new Map(), participantId: null, resumeToken: undefined }
    current = party
    say(status, 'Connecting…')

    socket.on('connect', async () => {
      say(status, `Connected (${socket.io.engine.transport.name}).`)
      if (socket.recovered && party.room) return // the server sends room:state again
      try {
        await request(socket, 'room:join', {
          roomCode,
          ...(session.token ? {} : { guestName }),
          ...(party.resumeToken ? { resumeToken: party.resumeToken } : {})
        })
        await measureOffset(party)
        if (current !== party) return
        renderTimer()
        videoSync.follow()
        clearInterval(clockTimer)
        clockTimer = setInterval(() => { measureOffset(party).catch(() => {}) }, CLOCK_REFRESH_MS)
      } catch (err) {
        if (current !== party) return
        fail(err)
        socket.disconnect()
        reset('Not joined.')
      }
    })
    socket.on('room:state', (state) => { if (current === party) applyState(state) })
    socket.on('playback:state', (playback) => { if (current === party) setPlayback(playback) })
    socket.on('room:participant:joined', ({ participant }) => {
      if (current !== party) return
      party.participants.set(participant.id, participant)
      renderParticipants()
    })
    socket.on('room:participant:left', ({ participantId }) => {
      if (current !== party) return
      party.participants.delete(participantId)
      renderParticipants()
    })
    socket.on('room:closed', ({ reason }) => {
      if (current !== party) return
      socket.disconnect()
      reset(`The party was ${reason}.`)
    })
    socket.on('room:error', fail)
    socket.on('connect_error', (err) => { sayError(error, cannotConnect(err)) })
    socket.on('disconnect', (reason) => { if (current === party) say(status, `Connection lost (${reason}); reconnecting…`) })
    ticker = setInterval(renderTimer, TICK_MS)
  }

  function control (update) {
    if (!current) return
    // The new state comes to everyone (this page too) as playback:state, in the server's order.
    request(current.socket, 'playback:update', update).catch(fail)
  }

  byId('sync-play').addEventListener('click', () => control({ action: 'play' }))
  byId('sync-pause').addEventListener('click', () => control({ action: 'pause' }))
  byId('sync-seek').addEventListener('click', () => {
    const position = Number.parseFloat(byId('sync-seek-input').value)
    if (!Number.isFinite(position) || position < 0) return say(error, 'Seek needs a number of seconds (0 or more)')
    control({ action: 'seek', position })
  })
  byId('sync-rate').addEventListener('change', () => {
    control({ action: 'rate', rate: Number.parseFloat(byId('sync-rate').value) })
  })
  byId('sync-leave').addEventListener('click', leave)

  onSubmit(byId('sync-join-form'), () => {
    try {
      join(byId('sync-code').value.trim())
    } catch (err) {
      fail(err)
    }
  })

  onSubmit(byId('sync-create-form'), async () => {
    try {
      const room = await api('api/sync/rooms', {
        method: 'POST', token: session.token, body: { name: byId('sync-room-name').value.trim() }
      })
      byId('sync-code').value = room.code
      join(room.code)
    } catch (err) {
      fail(err)
    }
  })

  session.onChange(({ user }) => {
    byId('sync-create').disabled = !user
  })
}
