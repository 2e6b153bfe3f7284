/* global clearTimeout, setTimeout */
import { api, ApiError, session } from './net.js'
import { el } from './dom.js'

const SUGGEST_DELAY_MS = 200
const SUGGESTIONS = 8
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const USERNAME_START = /^[A-Za-z0-9_.-]{1,32}$/

/** Registered users whose username starts with `q` (GET /api/users). */
async function search (q, limit) {
  const { users } = await api(`api/users?q=${encodeURIComponent(q)}&limit=${limit}`, { token: session.token })
  return users
}

/**
 * "Add member by username": the input suggests usernames as they are typed (a <datalist>), and
 * `resolve()` turns what was typed (a username, any case, or a user id) into a user id.
 */
export function bindMemberSearch (input, datalist) {
  let timer = null
  input.addEventListener('input', () => {
    clearTimeout(timer)
    const q = input.value.trim()
    if (!USERNAME_START.test(q)) return datalist.replaceChildren()
    timer = setTimeout(() => {
      search(q, SUGGESTIONS).then((users) => {
        if (input.value.trim() !== q) return
        datalist.replaceChildren(...users.map((u) => {
          const option = el('option', { text: u.displayName })
          option.value = u.username
          return option
        }))
      }).catch(() => {})
    }, SUGGEST_DELAY_MS)
  })

  return {
    async resolve () {
      const typed = input.value.trim().replace(/^@/, '')
      if (USER_ID.test(typed)) return typed
      if (!USERNAME_START.test(typed)) throw new ApiError('USER_NOT_FOUND', 'not a username')
      const exact = (await search(typed, SUGGESTIONS)).find((u) => u.username.toLowerCase() === typed.toLowerCase())
      if (!exact) throw new ApiError('USER_NOT_FOUND', `no user named ${typed}`)
      return exact.id
    }
  }
}
