/* global clearTimeout, setTimeout */
import { api, connect, request, session } from './net.js'
import { byId, clock, el, onSubmit, say, sayError } from './dom.js'
import { cannotConnect } from './errors.js'
import { bindMemberSearch } from './member-search.js'
import { createPresenceWatch } from './presence.js'

const TYPING_IDLE_MS = 2_500
// The server forgets a typing indicator after TYPING_TTL_MS (10 s by default): say it again sooner.
const TYPING_REFRESH_MS = 5_000

// Group chat (CONTRACT §6, seed 001) on the default namespace `/` with the account's JWT:
// REST for groups, members and history; join_group, send_message, typing_start/stop and the
// room's presence over the socket.
export function setupChat () {
  const status = byId('chat-status')
  const error = byId('chat-error')
  const joinedView = byId('chat-joined')
  const messages = byId('chat-messages')
  const online = byId('chat-online')
  const typingLine = byId('chat-typing')
  const input = byId('chat-input')
  const groupIdInput = byId('chat-group-id')
  const controls = ['chat-create', 'chat-refresh', 'chat-join'].map((id) => byId(id))

  const memberList = byId('chat-members')
  const memberSearch = bindMemberSearch(byId('chat-member'), byId('chat-member-suggestions'))

  let socket = null
  let presence = null
  let group = null
  /** The current group's members (REST), shown with presence dots. */
  let members = []
  /** userId → display name of who is typing in the current group. */
  const typists = new Map()
  const seen = new Set()
  /** The highest seq shown for the current group: a rejoin asks for what came after it. */
  let lastSeq = 0
  let typingSince = 0
  let idleTimer = null

  const fail = (err) => { sayError(error, err) }

  function renderTyping () {
    const names = [...typists.values()]
    typingLine.textContent = names.length === 0
      ? ''
      : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`
  }

  /** Who the group's last member list said is here (seeds the dots without presence:subscribe). */
  let onlineIds = []

  function renderOnline (members) {
    onlineIds = members.map((m) => m.userId)
    online.replaceChildren(...members.map((m) =>
      el('li', { data: { userId: m.userId } }, m.userName, m.userId === session.user?.id ? el('span', { class: 'you', text: '(you)' }) : '')))
  }

  function renderMembers () {
    memberList.replaceChildren(...members.map((m) => {
      const status = presence?.statusOf(m.userId) ?? 'offline'
      return el('li', { data: { userId: m.userId, status } },
        el('span', { class: `dot ${status}`, title: status }), m.userName,
        m.role === 'owner' ? el('span', { class: 'you', text: '(owner)' }) : '',
        m.userId === session.user?.id ? el('span', { class: 'you', text: '(you)' }) : '')
    }))
  }

  /** Members and their presence; also after someone was added. */
  async function loadMembers (joined, onlineNow) {
    const { group: info, members: list } = await api(`api/groups/${encodeURIComponent(joined.id)}`, { token: session.token })
    if (group !== joined) return
    byId('chat-current').textContent = info.name
    members = list
    renderMembers()
    await presence?.watch(list.map((m) => m.userId), onlineNow)
  }

  function addMessage (m) {
    if (!group || m.groupId !== group.id || seen.has(m.id)) return
    seen.add(m.id)
    lastSeq = Math.max(lastSeq, m.seq)
    const item = el('li', { data: { seq: m.seq, messageId: m.id } },
      el('span', { class: 'sender', text: m.sender.name }),
      el('span', { class: 'content', text: m.content }),
      el('span', { class: 'time', text: clock(m.createdAt) }))
    // Keep the list in seq order (history and live messages may interleave).
    const after = [...messages.children].find((li) => Number(li.dataset.seq) > m.seq)
    messages.insertBefore(item, after ?? null)
    messages.scrollTop = messages.scrollHeight
  }

  function stopTyping () {
    clearTimeout(idleTimer)
    idleTimer = null
    if (typingSince !== 0 && group && socket?.connected) socket.emit('typing_stop', { groupId: group.id })
    typingSince = 0
  }

  input.addEventListener('input', () => {
    if (!group || !socket?.connected) return
    if (input.value.trim() === '') return stopTyping()
    const now = Date.now()
    if (now - typingSince > TYPING_REFRESH_MS) {
      socket.emit('typing_start', { groupId: group.id })
      typingSince = now
    }
    clearTimeout(idleTimer)
    idleTimer = setTimeout(stopTyping, TYPING_IDLE_MS)
  })

  async function refreshGroups () {
    if (!session.token) return
    try {
      const { groups } = await api('api/groups', { token: session.token })
      const list = byId('chat-groups')
      list.replaceChildren(...groups.map((g) => {
        const join = el('button', { text: 'Join' })
        join.type = 'button'
        join.addEventListener('click', () => { enter(g.id).catch(fail) })
        return el('li', { data: { groupId: g.id } }, el('span', { text: g.name }),
          el('span', { class: 'meta', text: `${g.role}, ${g.memberCount} member${g.memberCount === 1 ? '' : 's'}` }), join)
      }))
      if (groups.length === 0) list.replaceChildren(el('li', { class: 'meta', text: 'No groups yet: create one, or ask an owner to add your user id.' }))
    } catch (err) {
      fail(err)
    }
  }

  function leaveGroup () {
    stopTyping()
    if (group && socket?.connected) socket.emit('leave_group', group.id)
    group = null
    joinedView.hidden = true
    typists.clear()
    seen.clear()
    lastSeq = 0
    messages.replaceChildren()
    online.replaceChildren()
    members = []
    memberList.replaceChildren()
    renderTyping()
  }

  /** Joins a group over the socket (membership is checked there) and loads its recent history. */
  async function enter (groupId) {
    say(error, '')
    leaveGroup()
    const reply = await request(socket, 'join_group', groupId)
    // Live events count from here; the history below fills in what came before.
    const joined = { id: reply.groupId }
    group = joined
    groupIdInput.value = joined.id
    byId('chat-current-id').textContent = joined.id
    byId('chat-current').textContent = ''
    renderOnline(reply.onlineMembers)
    joinedView.hidden = false
    const [history] = await Promise.all([
      api(`api/groups/${encodeURIComponent(joined.id)}/messages?limit=50`, { token: session.token }),
      loadMembers(joined, onlineIds)
    ])
    if (group !== joined) return
    for (const m of history.messages) addMessage(m)
    refreshGroups()
  }

  function bindSocket (s) {
    s.on('connect', () => {
      say(status, `Connected as ${session.user?.displayName} (${s.io.engine.transport.name}).`)
      // A connection that was not recovered has lost its rooms: join the current group again and
      // get what was sent meanwhile (CONTRACT §12: replayed in seq order before any live message).
      if (group && !s.recovered) {
        request(s, 'join_group', { groupId: group.id, sinceSeq: lastSeq }).then((r) => renderOnline(r.onlineMembers)).catch(fail)
      }
    })
    s.on('disconnect', (reason) => { say(status, `Disconnected (${reason}).`) })
    s.on('connect_error', (err) => { sayError(status, cannotConnect(err)) })
    s.on('error', fail)
    // What an operator sends from /admin (CONTRACT §7 broadcast); shown as text like everything else.
    s.on('system:announcement', (data) => { say(status, `Announcement: ${typeof data?.message === 'string' ? data.message : JSON.stringify(data)}`) })
    s.on('message_received', addMessage)
    s.on('history:replayed', (event) => {
      const current = group
      if (!current || event.groupId !== current.id || event.complete) return
      // More was missed than a rejoin replays: the newest page comes from the history route.
      api(`api/groups/${encodeURIComponent(current.id)}/messages?limit=50`, { token: session.token })
        .then((history) => { if (group === current) for (const m of history.messages) addMessage(m) })
        .catch(fail)
    })
    s.on('room_members_update', (event) => {
      if (!group || event.groupId !== group.id) return
      renderOnline(event.onlineMembers)
      presence?.seen(event.onlineMembers.map((m) => m.userId))
    })
    s.on('user_typing', (event) => {
      if (!group || event.groupId !== group.id) return
      typists.set(event.userId, event.userName)
      renderTyping()
    })
    s.on('user_stopped_typing', (event) => {
      if (!group || event.groupId !== group.id) return
      typists.delete(event.userId)
      renderTyping()
    })
    s.on('user_left_group', (event) => {
      if (!group || event.groupId !== group.id) return
      typists.delete(event.userId)
      renderTyping()
    })
  }

  onSubmit(byId('chat-send-form'), async () => {
    const content = input.value
    if (!group || content.trim() === '') return
    stopTyping()
    // Cleared now, not on the ack: what is typed meanwhile is the next message.
    input.value = ''
    try {
      addMessage(await request(socket, 'send_message', { groupId: group.id, content }))
    } catch (err) {
      if (input.value === '') input.value = content
      fail(err)
    }
  })

  onSubmit(byId('chat-create-form'), async () => {
    try {
      const { group: created } = await api('api/groups', {
        method: 'POST', token: session.token, body: { name: byId('chat-group-name').value.trim() }
      })
      await enter(created.id)
    } catch (err) {
      fail(err)
    }
  })

  onSubmit(byId('chat-join-form'), () => { enter(groupIdInput.value.trim()).catch(fail) })

  onSubmit(byId('chat-add-form'), async () => {
    const field = byId('chat-member')
    const joined = group
    try {
      const userId = await memberSearch.resolve()
      const { member } = await api(`api/groups/${encodeURIComponent(joined.id)}/members`, {
        method: 'POST', token: session.token, body: { userId }
      })
      field.value = ''
      say(error, '')
      say(status, `${member.userName} is a member now: the group is in their list.`)
      refreshGroups()
      if (group === joined) await loadMembers(joined, onlineIds)
    } catch (err) {
      fail(err)
    }
  })

  byId('chat-refresh').addEventListener('click', refreshGroups)

  session.onChange(({ token }) => {
    leaveGroup()
    socket?.disconnect()
    socket = null
    presence = null
    byId('chat-groups').replaceChildren()
    for (const button of controls) button.disabled = !token
    if (!token) {
      say(status, 'Sign in to chat.')
      return
    }
    say(status, 'Connecting…')
    socket = connect('/', { auth: { token } })
    presence = createPresenceWatch(socket, renderMembers)
    bindSocket(socket)
    refreshGroups()
  })
}
