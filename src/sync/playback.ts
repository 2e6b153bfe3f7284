import type { PlaybackState, PlaybackUpdatePayload } from '../contract/sync.js'
import { AppError } from '../errors.js'

/** Where the media is at `now`: a playing state moves on with the clock and its rate. */
export function positionAt (state: PlaybackState, now: number): number {
  if (state.status !== 'playing') return state.position
  return state.position + Math.max(0, now - state.updatedAt) / 1000 * state.rate
}

/** What a room plays before anyone pressed anything. */
export function initialPlayback (mediaUrl: string | null, now: number): PlaybackState {
  return { status: 'paused', position: 0, rate: 1, mediaUrl, updatedAt: now, updatedBy: null }
}

/**
 * The state after one participant's update, stamped with the server clock: play/pause/rate
 * keep the running position unless one is given; seek needs `position`, rate needs `rate`,
 * media needs `mediaUrl` (a new medium starts paused at 0).
 */
export function applyPlaybackUpdate (current: PlaybackState, update: PlaybackUpdatePayload, by: string, now: number): PlaybackState {
  const position = update.position ?? positionAt(current, now)
  const stamp = { updatedAt: now, updatedBy: by }
  switch (update.action) {
    case 'play':
      return { ...current, ...stamp, status: 'playing', position, rate: update.rate ?? current.rate }
    case 'pause':
      return { ...current, ...stamp, status: 'paused', position }
    case 'seek':
      if (update.position === undefined) throw new AppError('INVALID_REQUEST', 'Invalid playback:update: seek needs position')
      return { ...current, ...stamp, position: update.position }
    case 'rate':
      if (update.rate === undefined) throw new AppError('INVALID_REQUEST', 'Invalid playback:update: rate needs rate')
      return { ...current, ...stamp, position, rate: update.rate }
    case 'media':
      if (update.mediaUrl === undefined) throw new AppError('INVALID_REQUEST', 'Invalid playback:update: media needs mediaUrl')
      return { ...current, ...stamp, status: 'paused', position: update.position ?? 0, mediaUrl: update.mediaUrl }
  }
}
