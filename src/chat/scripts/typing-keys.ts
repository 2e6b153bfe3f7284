// Typing's key names, until src/store/keys.ts (helper D) holds them.
/** Typing indicators: a string per user and scope, and one sorted set of when each ends. */
export const typingKeys = {
  /** string (PX ttl): when the user's last broadcast typing start in the scope was (ms) */
  user: (scope: string, userId: string) => `typing:${scope}:${userId}`,
  /** sorted set of `member(scope, userId)` → expires at (ms) */
  due: 'typing:due',
  /** A due-set member, not a key; a newline never appears in a scope or a user id. */
  member: (scope: string, userId: string) => `${scope}\n${userId}`
}

export interface TypingEntry { scope: string, userId: string }

export function parseMember (member: string): TypingEntry {
  const cut = member.indexOf('\n')
  return { scope: member.slice(0, cut), userId: member.slice(cut + 1) }
}
