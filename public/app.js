/* global document */
import { api, session } from './net.js'
import { byId, onSubmit, say, sayError } from './dom.js'
import { setupPublicRoom } from './public-room.js'
import { setupChat } from './chat.js'
import { setupWatchParty } from './watch-party.js'

// The account bar: register or sign in (CONTRACT §3); the panels follow `session`.
function setupIdentity () {
  const form = byId('auth-form')
  const error = byId('auth-error')
  const status = byId('auth-status')
  const userId = byId('auth-user-id')
  const logout = byId('auth-logout')

  onSubmit(form, async (submitter) => {
    const register = submitter?.value === 'register'
    const username = byId('auth-username').value.trim()
    const password = byId('auth-password').value
    const displayName = byId('auth-display-name').value.trim()
    say(error, '')
    try {
      const body = register
        ? { username, password, ...(displayName ? { displayName } : {}) }
        : { username, password }
      const reply = await api(register ? 'api/auth/register' : 'api/auth/login', { method: 'POST', body })
      byId('auth-password').value = ''
      session.set(reply.token, reply.user)
    } catch (err) {
      sayError(error, err)
    }
  })

  logout.addEventListener('click', () => session.set(null, null))

  session.onChange(({ user }) => {
    say(status, user
      ? `Signed in as ${user.displayName} (${user.username})`
      : 'Not signed in. Chat and creating rooms need an account; public rooms and watch parties can be joined without one.')
    say(userId, user ? user.id : '-')
    logout.disabled = !user
    for (const id of ['auth-register', 'auth-login']) byId(id).disabled = Boolean(user)
  })
}

session.restore()
setupIdentity()
setupPublicRoom()
setupChat()
setupWatchParty()
document.documentElement.dataset.ready = 'true'
