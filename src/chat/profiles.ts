import type { Store } from '../store/types.js'
import { chatKeys } from '../store/keys.js'

/** Who a user is in chat events: `username` (seeds 003, 004) and `displayName` (seed 001). */
export interface ChatUser {
  id: string
  username: string
  displayName: string
}

// Refreshed on every connect; outlives a session so that events about a user who just went
// away (a swept instance, an expired typing indicator) still carry the name.
const PROFILE_TTL_MS = 24 * 60 * 60 * 1000

const key = chatKeys.profile

/**
 * The names of connected users, shared by every instance through the store, so an instance
 * can name a user whose sockets are elsewhere (online lists, swept users).
 */
export function createProfiles (store: Store) {
  return {
    async save (user: ChatUser): Promise<void> {
      await store.set(key(user.id), JSON.stringify({ username: user.username, displayName: user.displayName }), { ttlMs: PROFILE_TTL_MS })
    },

    async get (userId: string): Promise<ChatUser> {
      return (await this.many([userId])).get(userId)!
    },

    /** Every id gets a profile: an unknown user is named by their id. */
    async many (userIds: string[]): Promise<Map<string, ChatUser>> {
      const values = await Promise.all(userIds.map(id => store.get(key(id))))
      const profiles = new Map<string, ChatUser>()
      userIds.forEach((id, i) => {
        let parsed: { username?: unknown, displayName?: unknown } = {}
        try { parsed = JSON.parse(values[i] ?? '{}') } catch { /* a damaged entry names the user by id */ }
        const username = typeof parsed.username === 'string' ? parsed.username : id
        const displayName = typeof parsed.displayName === 'string' ? parsed.displayName : username
        profiles.set(id, { id, username, displayName })
      })
      return profiles
    }
  }
}

export type Profiles = ReturnType<typeof createProfiles>
