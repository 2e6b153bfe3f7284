/** One indicator: a user typing in a scope (a due-set member is `typingKeys.member(scope, userId)`). */
export interface TypingEntry { scope: string, userId: string }

export function parseMember (member: string): TypingEntry {
  const cut = member.indexOf('\n')
  return { scope: member.slice(0, cut), userId: member.slice(cut + 1) }
}
