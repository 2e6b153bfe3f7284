import t from 'tap'
import { Namespace, Server } from 'socket.io'
import { CompactRooms, RoomMembers, compactRooms } from '../../src/socket/room-members.js'
import { ClosableSessionAwareAdapter } from '../../src/socket/workarounds.js'

t.test('RoomMembers answers as a Set would, through one member and many', async (t) => {
  const members = new RoomMembers()
  const set = new Set<string>()
  // A fixed pseudo-random sequence of adds and deletes over a few ids (repeats included).
  let seed = 7
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648)
  const differences: string[] = []
  for (let step = 0; step < 2000 && differences.length === 0; step++) {
    const id = `s${next() % 4}`
    if (next() % 3 === 0) {
      if (members.delete(id) !== set.delete(id)) differences.push(`delete ${id} at ${step}`)
    } else {
      if (members.add(id) !== members) differences.push(`add ${id} at ${step} returned something else`)
      set.add(id)
    }
    if (members.size !== set.size || [...members].sort().join() !== [...set].sort().join()) differences.push(`at ${step}: ${[...members]} vs ${[...set]}`)
    for (const probe of ['s0', 's1', 's2', 's3']) if (members.has(probe) !== set.has(probe)) differences.push(`has ${probe} at ${step}`)
  }
  t.same(differences, [], '2000 adds and deletes: the same members as a Set at every step')
  const seen: string[] = []
  members.forEach((id, again, self) => { seen.push(id); t.equal(again, id); t.equal(self, members) })
  t.same(seen.sort(), [...set].sort(), 'forEach visits every member')
  t.same([...members.keys()].sort(), [...members.values()].sort())
})

t.test('one member is kept without a Set; a second makes one', async (t) => {
  const members = new RoomMembers()
  t.equal(members.size, 0)
  t.same([...members], [])
  members.add('a').add('a')
  t.equal(members.size, 1, 'the same id twice is one member')
  t.same([...members], ['a'])
  t.notOk(members.delete('b'))
  members.add('b')
  t.same([...members].sort(), ['a', 'b'])
  t.ok(members.delete('a'))
  t.same([...members], ['b'])
  t.ok(members.delete('b'))
  t.equal(members.size, 0)
})

t.test('CompactRooms stores a new room as RoomMembers; compactRooms refuses an adapter with rooms', async (t) => {
  const rooms = new CompactRooms()
  rooms.set('r', new Set())
  t.ok(rooms.get('r') instanceof RoomMembers, 'an empty Set (a new room) is replaced')
  const full = new Set(['x'])
  rooms.set('q', full)
  t.equal(rooms.get('q'), full, 'a Set with members is kept as it is')
  const adapter = { rooms: new Map([['r', new Set(['a'])]]) }
  t.throws(() => { compactRooms(adapter) }, /already has rooms/)
})

t.test('the recovery adapter keeps rooms compact and still joins and leaves them', async (t) => {
  const io = new Server({ adapter: ClosableSessionAwareAdapter as never, connectionStateRecovery: { maxDisconnectionDuration: 1_000 } })
  const nsp: Namespace = io.of('/')
  const adapter = nsp.adapter
  t.teardown(() => adapter.close())
  t.ok(adapter.rooms instanceof CompactRooms)
  await adapter.addAll('s1', new Set(['s1', 'room']))
  await adapter.addAll('s2', new Set(['s2', 'room']))
  t.ok(adapter.rooms.get('s1') instanceof RoomMembers)
  t.same([...adapter.rooms.get('room')!].sort(), ['s1', 's2'])
  const created: string[] = []
  const deleted: string[] = []
  adapter.on('create-room', (room: string) => created.push(room))
  adapter.on('delete-room', (room: string) => deleted.push(room))
  adapter.del('s1', 'room')
  t.same([...adapter.rooms.get('room')!], ['s2'])
  adapter.delAll('s2')
  t.notOk(adapter.rooms.has('room'), 'gone with its last member')
  t.notOk(adapter.rooms.has('s2'))
  t.same(deleted.sort(), ['room', 's2'])
  await adapter.addAll('s3', new Set(['room']))
  t.same(created, ['room'], 'made again on a join')
})
