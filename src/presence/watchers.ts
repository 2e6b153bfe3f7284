import { AppError } from '../errors.js'
import type { InstanceLifecycle } from '../instance/lifecycle.js'
import { presenceKeys, watcherKeys as keys } from '../store/keys.js'
import type { Store } from '../store/types.js'
import { OVER_CAP, unwatchScript, watchScript } from './scripts/watch.js'
import { unwatchInstanceScript, unwatchSocketScript } from './scripts/unwatch-all.js'

export type UserStatusValue = 'online' | 'offline'

export interface WatchersOptions {
  store: Store
  /** This instance's id, and the dead instances whose watcher sockets are forgotten. */
  lifecycle: Pick<InstanceLifecycle, 'instanceId' | 'onInstanceDead'>
  /** PRESENCE_WATCHLIST_MAX: users one socket may watch. */
  max: number
}

/**
 * Who watches whom (CONTRACT §6 "Presence that scales"): a socket subscribes to users, and a
 * user's status change is sent to the sockets watching them only. The index lives in the store,
 * so any instance finds the watchers of any user in one read, at a cost in proportion to them.
 */
export function createWatchers (options: WatchersOptions) {
  const { store, lifecycle, max } = options
  const { instanceId } = lifecycle

  const offDead = lifecycle.onInstanceDead(async (deadInstanceId) => {
    await store.run(unwatchInstanceScript, [keys.instance(deadInstanceId)], [keys.watchers.pattern, keys.watching.pattern, deadInstanceId])
  })

  /**
   * The sockets watching the user, by the instance they are on: a status goes to each such
   * instance only. A member written before instances were recorded (no space) is under `''`.
   */
  async function watchersByInstance (userId: string): Promise<Map<string, string[]>> {
    const byInstance = new Map<string, string[]>()
    for (const member of await store.sMembers(keys.watchers(userId))) {
      const space = member.indexOf(' ')
      const instance = space === -1 ? '' : member.slice(0, space)
      const socketId = member.slice(space + 1)
      const sockets = byInstance.get(instance)
      if (sockets === undefined) byInstance.set(instance, [socketId])
      else sockets.push(socketId)
    }
    return byInstance
  }

  return {
    max,

    /** The socket watches these users too; their statuses now. Over the cap: INVALID_REQUEST, nothing changed. */
    async subscribe (socketId: string, userIds: string[]): Promise<Array<{ userId: string, status: UserStatusValue }>> {
      const unique = [...new Set(userIds)]
      const overCap = () => new AppError('INVALID_REQUEST', `A socket may watch at most ${max} users (PRESENCE_WATCHLIST_MAX)`)
      if (unique.length > max) throw overCap()
      const reply = await store.run(watchScript, [keys.watching(socketId), keys.instance(instanceId)],
        [socketId, max, keys.watchers.pattern, presenceKeys.userSockets.pattern, instanceId, ...unique])
      if (reply === OVER_CAP) throw overCap()
      const online = reply as number[]
      return unique.map((userId, i) => ({ userId, status: online[i] === 1 ? 'online' : 'offline' }))
    },

    async unsubscribe (socketId: string, userIds: string[]): Promise<void> {
      await store.run(unwatchScript, [keys.watching(socketId), keys.instance(instanceId)],
        [socketId, keys.watchers.pattern, instanceId, ...new Set(userIds)])
    },

    /** The socket went: it watches no one. */
    async drop (socketId: string): Promise<void> {
      await store.run(unwatchSocketScript, [keys.watching(socketId), keys.instance(instanceId)], [socketId, keys.watchers.pattern, instanceId])
    },

    /** Sockets (on any instance) watching the user. */
    async watchersOf (userId: string): Promise<string[]> {
      return [...(await watchersByInstance(userId)).values()].flat()
    },

    watchersByInstance,

    /** Users one socket watches. */
    async watchedBy (socketId: string): Promise<string[]> {
      return await store.sMembers(keys.watching(socketId))
    },

    /** Graceful shutdown: forgets this instance's watcher sockets at once. */
    async removeInstance (): Promise<void> {
      await store.run(unwatchInstanceScript, [keys.instance(instanceId)], [keys.watchers.pattern, keys.watching.pattern, instanceId])
    },

    close (): void {
      offDead()
    }
  }
}

export type Watchers = ReturnType<typeof createWatchers>
