/**
 * Socket.IO rooms whose members are kept without a Set while there is one: the adapter's
 * `rooms` map (room → socket ids) holds, for every connected socket, the room named by its id
 * (one member, always) and, on `/`, its user's room (one member for a user on one tab). A Set of
 * one costs about 150 bytes of heap; a RoomMembers of one, 32. A second member makes it a Set.
 *
 * The adapters (socket.io-adapter's in-memory adapter and the ClusterAdapter under the sharded
 * one) use a room's members through `has`, `add`, `delete`, `size`, iteration and `forEach`
 * only: those are what this implements, as Set does. It is not a Set (`instanceof Set` is false).
 */
export class RoomMembers implements Iterable<string> {
  private one: string | undefined = undefined
  private many: Set<string> | undefined = undefined

  get size (): number {
    if (this.many !== undefined) return this.many.size
    return this.one === undefined ? 0 : 1
  }

  has (id: string): boolean {
    return this.many !== undefined ? this.many.has(id) : this.one === id
  }

  add (id: string): this {
    if (this.many !== undefined) this.many.add(id)
    else if (this.one === undefined || this.one === id) this.one = id
    else {
      this.many = new Set([this.one, id])
      this.one = undefined
    }
    return this
  }

  delete (id: string): boolean {
    if (this.many !== undefined) return this.many.delete(id)
    if (this.one !== id) return false
    this.one = undefined
    return true
  }

  forEach (fn: (id: string, again: string, members: this) => void): void {
    for (const id of this) fn(id, id, this)
  }

  [Symbol.iterator] (): IterableIterator<string> {
    if (this.many !== undefined) return this.many.values()
    return (this.one === undefined ? [] : [this.one]).values()
  }

  values (): IterableIterator<string> { return this[Symbol.iterator]() }
  keys (): IterableIterator<string> { return this[Symbol.iterator]() }
}

/**
 * An adapter's `rooms` map that stores a new room's (empty) member Set as RoomMembers: the
 * adapters create a room with `rooms.set(room, new Set())`, then add to what `get` returns.
 */
export class CompactRooms extends Map<string, Set<string>> {
  override set (room: string, members: Set<string>): this {
    return super.set(room, members.size === 0 ? new RoomMembers() as unknown as Set<string> : members)
  }
}

/** Makes an adapter keep its rooms compact; called in its constructor, while it has none. */
export function compactRooms (adapter: { rooms: Map<string, Set<string>> }): void {
  if (adapter.rooms.size !== 0) throw new Error('compactRooms: the adapter already has rooms')
  adapter.rooms = new CompactRooms()
}
