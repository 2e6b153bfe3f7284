/** Where a background task's failure goes; a service must not crash the process over one. */
export type ErrorSink = (err: unknown) => void

export function defaultErrorSink (service: string): ErrorSink {
  return (err) => {
    const message = err instanceof Error ? err.message : String(err)
    process.emitWarning(`${service}: ${message}`, { code: 'ROOMWIRE_BACKGROUND_TASK' })
  }
}

export interface Repeater {
  readonly running: boolean
  start (): void
  stop (): void
}

/**
 * Runs `task` every `intervalMs` on an unref()'d timer (it never keeps the process alive),
 * skipping a tick while the previous run is still going so slow Redis cannot pile runs up.
 */
export function repeat (intervalMs: number, task: () => Promise<unknown>, onError: ErrorSink): Repeater {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError(`invalid interval ${intervalMs} ms`)
  let timer: NodeJS.Timeout | null = null
  let busy = false

  function tick (): void {
    if (busy) return
    busy = true
    task().catch(onError).finally(() => { busy = false })
  }

  return {
    get running () { return timer !== null },
    start () {
      if (timer !== null) return
      timer = setInterval(tick, intervalMs)
      timer.unref()
    },
    stop () {
      if (timer !== null) clearInterval(timer)
      timer = null
    }
  }
}

/** Calls every listener, sending a throwing one's error to `onError` instead of the caller. */
export function notify<T> (listeners: Set<(value: T) => void>, value: T, onError: ErrorSink): void {
  for (const listener of listeners) {
    try {
      listener(value)
    } catch (err) {
      onError(err)
    }
  }
}

/** Adds a listener; the returned function removes it. */
export function subscribe<T> (listeners: Set<(value: T) => void>, listener: (value: T) => void): () => void {
  listeners.add(listener)
  return () => { listeners.delete(listener) }
}

/**
 * Runs a health check with a deadline: null when it answered in time, else why not (its error's
 * message, or "timed out"). The timer is cleared either way. `/ready` and the metrics' health
 * gauges both ask through it.
 */
export async function probe (check: () => Promise<void>, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      check(),
      new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('timed out')), timeoutMs) })
    ])
    return null
  } catch (err) {
    return (err as Error).message || 'unreachable'
  } finally {
    clearTimeout(timer)
  }
}
