import { request } from './net.js'

/** Users one socket may watch (PRESENCE_WATCHLIST_MAX's default). */
const WATCH_MAX = 100
const SUBSCRIBE_TIMEOUT_MS = 3_000

/**
 * Online/offline of a set of users for the presence dots. `presence:subscribe` (CONTRACT §6)
 * when the server acks it; a server without it sends `user:status` to every socket on `/`, so
 * the same listener serves both, seeded in that case with who is online in the group.
 */
export function createPresenceWatch (socket, onChange) {
  const statuses = new Map()
  let watched = new Set()
  let subscribed = false

  socket.on('user:status', ({ userId, status }) => {
    if (!watched.has(userId)) return
    statuses.set(userId, status)
    onChange()
  })

  // A connection that was not recovered starts with no watchlist on the server: watch again.
  socket.on('connect', () => {
    if (socket.recovered || !subscribed || watched.size === 0) return
    request(socket, 'presence:subscribe', { userIds: [...watched] }, SUBSCRIBE_TIMEOUT_MS).then((reply) => {
      for (const { userId, status } of reply?.statuses ?? []) statuses.set(userId, status)
      onChange()
    }).catch(() => {})
  })

  return {
    /** How statuses arrive: 'subscribed' (watch list) or 'broadcast' (the older fallback). */
    get mode () { return subscribed ? 'subscribed' : 'broadcast' },

    statusOf (userId) { return statuses.get(userId) ?? 'offline' },

    /** Watches these users from now on; `onlineNow`: who the group says is online (fallback seed). */
    async watch (userIds, onlineNow = []) {
      const previous = [...watched]
      watched = new Set(userIds.slice(0, WATCH_MAX))
      statuses.clear()
      if (subscribed && previous.length > 0) request(socket, 'presence:unsubscribe', { userIds: previous }).catch(() => {})
      try {
        const reply = await request(socket, 'presence:subscribe', { userIds: [...watched] }, SUBSCRIBE_TIMEOUT_MS)
        subscribed = Array.isArray(reply?.statuses)
        for (const { userId, status } of reply?.statuses ?? []) statuses.set(userId, status)
      } catch {
        subscribed = false
      }
      if (!subscribed) for (const userId of onlineNow) if (watched.has(userId)) statuses.set(userId, 'online')
      onChange()
    },

    /** Someone seen online in a member list (room_members_update) counts as online. */
    seen (userIds) {
      let changed = false
      for (const userId of userIds) {
        if (watched.has(userId) && statuses.get(userId) !== 'online') {
          statuses.set(userId, 'online')
          changed = true
        }
      }
      if (changed) onChange()
    }
  }
}
