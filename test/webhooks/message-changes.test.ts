import t from 'tap'
import { modes, servicesSkipReason } from '../helper.js'
import { ChatClient, createGroup, newUser } from '../chat/fixtures.js'
import { startReceiver, webhookApp } from './fixtures.js'

// Issue 21: edits and deletes reach webhook endpoints, once each; refused changes never do.

const skip = servicesSkipReason()
if (skip) t.skip(skip, async () => {})

for (const mode of modes()) {
  t.test(`${mode}: message.updated and message.deleted, in order after message.created`, async (t) => {
    const receiver = await startReceiver(t)
    const { app, url } = await webhookApp(t, mode, [receiver.url], { listen: true })
    const [owner, member] = [await newUser(app, 'Owner'), await newUser(app, 'Member')]
    const groupId = await createGroup(app, owner, [member])
    const o = await ChatClient.open(t, url, owner.token)
    const m = await ChatClient.open(t, url, member.token)
    await o.ack('join_group', groupId)
    await m.ack('join_group', groupId)
    const sent = await m.ack('send_message', { groupId, content: 'first draft' })
    t.match(await o.ack('edit_message', { messageId: sent.id, content: 'not mine' }), { ok: false })
    const edited = await m.ack('edit_message', { messageId: sent.id, content: 'second draft' })
    const deleted = await o.ack('delete_message', { messageId: sent.id })
    const changes = () => receiver.events().filter(e => e.room?.id === groupId && e.type.startsWith('message.'))
    await receiver.until(() => changes().length >= 3, 'the message events')
    const [created, updated, removed] = changes()
    t.equal(created.type, 'message.created')
    t.same(updated, {
      ...updated,
      type: 'message.updated',
      room: { kind: 'group', id: groupId },
      userId: member.user.id,
      data: { messageId: sent.id, seq: sent.seq, version: 2, content: 'second draft', editedAt: edited.editedAt }
    })
    t.same(removed, {
      ...removed,
      type: 'message.deleted',
      room: { kind: 'group', id: groupId },
      userId: owner.user.id,
      data: { messageId: sent.id, seq: sent.seq, version: 3, deletedAt: deleted.deletedAt, deletedBy: owner.user.id }
    })
    t.equal(changes().length, 3, 'the refused edit was not reported')
  })
}
