export interface CoalescerOptions {
  /** PRESENCE_COALESCE_MS: at most one send per key in this time. */
  intervalMs: number
  onError: (err: unknown) => void
  /** Told of each send that runs from a timer (shutdown waits for them). */
  track?: (work: Promise<unknown>) => void
}

/** late: it runs at the end of a window, not at once. */
type Send = (late: boolean) => Promise<void>

interface Window {
  timer: ReturnType<typeof setTimeout>
  /** The latest send asked for inside the window, run when it ends. */
  pending: Send | undefined
}

/**
 * Coalesces sends per key (a room's member list): the first of a quiet key runs at once, later
 * ones inside the window collapse into one run at its end, the latest asked for. A send reads
 * what it sends when it runs, so the last one always says how things are. Per instance: N
 * instances changing one room send at most N lists per window.
 */
export function createCoalescer ({ intervalMs, onError, track }: CoalescerOptions) {
  const windows = new Map<string, Window>()
  // Closing (shutdown): what is queued goes out now, and later sends (this instance's own
  // departures) run at once, for no timer may outlive the instance.
  let closed = false

  function open (key: string): Window {
    const window: Window = { timer: setTimeout(() => { end(key, window) }, intervalMs), pending: undefined }
    window.timer.unref?.()
    windows.set(key, window)
    return window
  }

  function end (key: string, window: Window): void {
    const { pending } = window
    if (pending === undefined) {
      windows.delete(key)
      return
    }
    // The send ran at the end of a busy window: another window follows it.
    open(key)
    const work = pending(true).catch(onError)
    track?.(work)
  }

  return {
    /** Resolves once the send ran (a quiet key) or was queued for the end of the window. */
    async schedule (key: string, send: Send): Promise<void> {
      if (closed) return await send(false)
      const window = windows.get(key)
      if (window !== undefined) {
        window.pending = send
        return
      }
      open(key)
      await send(false)
    },

    /** Forgets what is queued for the key (its room is gone). */
    cancel (key: string): void {
      const window = windows.get(key)
      if (window === undefined) return
      clearTimeout(window.timer)
      windows.delete(key)
    },

    /** Keys with an open window (tests, metrics). */
    get size (): number {
      return windows.size
    },

    /** Sends what is queued now; from then on every send runs at once. */
    async close (): Promise<void> {
      closed = true
      const queued: Array<Promise<void>> = []
      for (const window of windows.values()) {
        clearTimeout(window.timer)
        if (window.pending !== undefined) queued.push(window.pending(true).catch(onError))
      }
      windows.clear()
      await Promise.all(queued)
    }
  }
}

export type Coalescer = ReturnType<typeof createCoalescer>
