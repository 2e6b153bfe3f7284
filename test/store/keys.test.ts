import t from 'tap'
import {
  clusterStatePrefix, hashTagOf, deadlineKey, instanceKeys, KEY_OF_LUA, limiterKeyPrefix, presenceKeys, realtimeKeys, roomKeys,
  slotKeys, syncKeys, typingKeys
} from '../../src/store/keys.js'
import type { Script } from '../../src/store/types.js'
import { eachBackend } from './fixtures/backends.js'

// The layout other instances and CONTRACT §5 rely on: a renamed key would strand live data.
t.test('key names are those of the store layout', async (t) => {
  t.same([instanceKeys.all, instanceKeys.alive('i1')], ['instances', 'instance:i1:alive'])
  t.same([
    presenceKeys.roomUsers('s'), presenceKeys.userRooms('u'), presenceKeys.userScopeSockets('u', 's'),
    presenceKeys.userSockets('u'), presenceKeys.socket('k'), presenceKeys.socketRooms('k'),
    presenceKeys.instanceSockets('i'), presenceKeys.online
  ], ['room:s:users', 'user:u:rooms', 'user:u:sockets:s', 'user:u:sockets', 'socket:k', 'socket:k:rooms', 'instance:i:sockets', 'online:users'])
  t.same([slotKeys.ip('h'), slotKeys.instance('i')], ['slots:h', 'instance:i:slots'])
  t.same([typingKeys.user('s', 'u'), typingKeys.due, typingKeys.member('s', 'u')], ['typing:s:u', 'typing:due', 's\nu'])
  t.same([realtimeKeys.sockets, realtimeKeys.activity, realtimeKeys.connections, realtimeKeys.roomActivity, realtimeKeys.kick('k')],
    ['realtime:sockets', 'realtime:activity', 'realtime:connections', 'realtime:room-activity', 'realtime:kick:k'])
  t.same(roomKeys('r'), ['room:r:participants', 'room:r:identities', 'room:r:online', 'room:r:sockets', 'room:r:playback'])
  t.same([syncKeys.instanceSockets('i'), syncKeys.instances], ['sync:instance:i:sockets', 'sync:instances'])
  t.same([deadlineKey('q'), limiterKeyPrefix('n')], ['deadlines:q', 'limit:n'])
})

// Redis Cluster (docs/scaling.md): one tag per deployment for the state (the adapter's names: test/socket/adapter).
t.test('cluster hash tags: the state under one tag that follows the prefix', async (t) => {
  t.equal(clusterStatePrefix(''), '{roomwire}:')
  t.equal(clusterStatePrefix('chat:'), 'chat:{chat}:')
  t.equal(clusterStatePrefix('app:{eu}:'), 'app:{eu}:', 'a tag of the operator\'s own is kept')
  t.throws(() => clusterStatePrefix('a}b'), /must not hold \{ or \}/)
  t.throws(() => clusterStatePrefix('a{}b'), /must not hold \{ or \}/, 'an empty tag hashes the whole key: refused')
  const prefix = clusterStatePrefix('chat:')
  const keys = [instanceKeys.epoch, instanceKeys.alive('i{1}'), presenceKeys.userScopeSockets('u}', '{s'), syncKeys.playback('r'), limiterKeyPrefix('n') + ':k']
  t.same(keys.map(key => hashTagOf(prefix + key)), keys.map(() => 'chat'), 'every state key, whatever its parts, in the tag\'s slot')
})

// Lua fills a pattern exactly as JavaScript builds the key, whatever the parts hold.
const fillScript: Script = {
  name: 'test.keyOf',
  lua: KEY_OF_LUA + `
return {key_of(ARGV[2], ARGV[4]), key_of(ARGV[3], ARGV[4], ARGV[5])}`,
  local (_ops, _keys, [prefix, , , a, b]) {
    return [prefix + instanceKeys.alive(a), prefix + presenceKeys.userScopeSockets(a, b)]
  }
}

eachBackend(t, async (t, { prefix, stores }) => {
  const [store] = await stores(1)
  for (const [a, b] of [['i1', 'scope'], ['{}%1', '%%{}.*'], ['é:|', '']]) {
    const reply = await store.run(fillScript, [], [instanceKeys.alive.pattern, presenceKeys.userScopeSockets.pattern, a, b])
    t.same(reply, [prefix + instanceKeys.alive(a), prefix + presenceKeys.userScopeSockets(a, b)], `parts ${JSON.stringify([a, b])}`)
  }
})
