/** One progress line on stderr (rewritten in place on a terminal, every 5 s otherwise). */
export function createProgress (enabled = true) {
  const started = Date.now()
  let scenario = ''
  let step = ''
  let scenarioStarted = Date.now()
  const tty = process.stderr.isTTY === true
  const clock = (ms: number) => {
    const s = Math.floor(ms / 1000)
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
  }
  const line = () => `[bench ${clock(Date.now() - started)}] ${scenario} (${clock(Date.now() - scenarioStarted)}) ${step}`
  const draw = () => {
    if (!enabled || scenario === '') return
    if (tty) process.stderr.write(`\r\x1b[2K${line().slice(0, (process.stderr.columns ?? 120) - 1)}`)
    else process.stderr.write(`${line()}\n`)
  }
  const timer = setInterval(draw, tty ? 1_000 : 5_000)
  timer.unref()
  return {
    scenario (name: string) {
      scenario = name
      step = ''
      scenarioStarted = Date.now()
      draw()
    },
    step (text: string) {
      step = text
      if (tty) draw()
    },
    /** A line that stays (a finished scenario, a skip). */
    note (text: string) {
      if (!enabled) return
      process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${text}\n`)
    },
    done () {
      clearInterval(timer)
      if (enabled && tty) process.stderr.write('\r\x1b[2K')
    }
  }
}

export type Progress = ReturnType<typeof createProgress>
