/** Redis glob-style patterns (`*`, `?`, `[a-z]`, `[^x]`, `\` escapes) as a RegExp. */
export function globToRegExp (pattern: string): RegExp {
  let source = '^'
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '*') {
      source += '[\\s\\S]*'
    } else if (c === '?') {
      source += '[\\s\\S]'
    } else if (c === '\\' && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[++i])
    } else if (c === '[' && pattern.indexOf(']', i + 1) > i + 1) {
      const end = pattern.indexOf(']', i + 1)
      let body = pattern.slice(i + 1, end)
      const negate = body.startsWith('^')
      if (negate) body = body.slice(1)
      source += '[' + (negate ? '^' : '') + body.replace(/[\\\]^]/g, '\\$&') + ']'
      i = end
    } else {
      source += escapeRegExp(c)
    }
  }
  return new RegExp(source + '$')
}

/** Escapes glob metacharacters, so a literal (a key prefix) can lead a SCAN MATCH pattern. */
export function escapeGlob (literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&')
}

function escapeRegExp (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
}
