/* global clearInterval, setInterval */
// Keeps an HTML5 <video> on the watch party's shared position. The shared position is computed
// from the server's playback state and this browser's clock offset (watch-party.js); here the
// video follows it: a seek when it is far off, a slightly faster or slower rate when it is close,
// so that small corrections do not make the picture jump.

/** Farther than this (seconds) from the shared position: seek. */
const SEEK_BEYOND_S = 0.25
/** Closer than this: play at the shared rate as it is. */
const IN_SYNC_S = 0.04
/** How much faster or slower the video plays while it closes a small gap. */
const NUDGE = 0.1
const CHECK_MS = 200

/**
 * `shared()` answers `{ position, rate, playing }` (seconds of media, now) or null before the
 * state is known; `onDrift(seconds, playing)` hears how far the video is from it after each check.
 */
export function createVideoSync (video, { shared, onDrift }) {
  let timer = null

  const duration = () => (Number.isFinite(video.duration) && video.duration > 0 ? video.duration : null)

  /** Where the video should be for a shared position: our clip loops, other media stop at the end. */
  function mediaTime (position) {
    const length = duration()
    if (length === null) return position
    return video.loop ? position % length : Math.min(position, length)
  }

  /** Video time minus where it should be; across the loop point the short way round. */
  function driftFrom (want) {
    let drift = video.currentTime - want
    const length = duration()
    if (video.loop && length !== null) {
      if (drift > length / 2) drift -= length
      if (drift < -length / 2) drift += length
    }
    return drift
  }

  function seek (to) {
    if (!video.seeking) video.currentTime = to
  }

  function follow () {
    const state = shared()
    // Before metadata (readyState 0) the video cannot seek; it is checked again once loaded.
    if (!state || video.readyState < 1) return
    const want = mediaTime(state.position)
    const drift = driftFrom(want)
    onDrift(drift, state.playing)
    if (!state.playing) {
      if (!video.paused) video.pause()
      video.playbackRate = state.rate
      if (Math.abs(drift) > 0.01) seek(want)
      return
    }
    if (Math.abs(drift) > SEEK_BEYOND_S) {
      video.playbackRate = state.rate
      seek(want)
    } else {
      video.playbackRate = Math.abs(drift) <= IN_SYNC_S ? state.rate : state.rate * (drift > 0 ? 1 - NUDGE : 1 + NUDGE)
    }
    // Muted, so the browser lets it start without a click on this page (the play came from another viewer).
    if (video.paused && !video.ended) video.play().catch(() => {})
  }

  video.addEventListener('loadedmetadata', follow)
  return {
    /** Follow the shared state now (a playback:state arrived) and from now on. */
    follow () {
      if (timer === null) timer = setInterval(follow, CHECK_MS)
      follow()
    },
    stop () {
      clearInterval(timer)
      timer = null
      video.pause()
    },
    /** Plays this media (a URL relative to the page or absolute). */
    load (src, { loop }) {
      video.loop = loop
      if (video.getAttribute('src') !== src) video.src = src
    }
  }
}
