/**
 * Ratios measured over interleaved repetitions (A B A B …): one ratio per repetition, then
 * their median and spread. Background load that comes and goes hits both arms of a
 * repetition alike, so the ratios stay put where the absolute figures do not.
 */
export interface Spread {
  /** Repetitions. */
  n: number
  median: number
  min: number
  max: number
  /** Half the range, as a percentage of the median: "± x %". */
  halfRangePct: number
}

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits

export function spreadOf (values: number[]): Spread | null {
  const finite = values.filter(Number.isFinite)
  if (finite.length === 0) return null
  const mid = median(finite)
  const min = Math.min(...finite)
  const max = Math.max(...finite)
  return {
    n: finite.length,
    median: round(mid, 3),
    min: round(min, 3),
    max: round(max, 3),
    halfRangePct: mid === 0 ? 0 : round((max - min) / 2 / Math.abs(mid) * 100, 1)
  }
}

/** Per repetition: subject[i] / baseline[i] (a repetition with a zero or missing value is left out). */
export function pairedRatios (subject: Array<number | null>, baseline: Array<number | null>): number[] {
  const out: number[] = []
  for (let i = 0; i < Math.min(subject.length, baseline.length); i++) {
    const s = subject[i]
    const b = baseline[i]
    if (s !== null && b !== null && b !== 0) out.push(s / b)
  }
  return out
}

/** "0.97× ±2.1 % (n 3: 0.95–0.99)" */
export function formatSpread (s: Spread): string {
  return `${s.median}× ±${s.halfRangePct} % (n ${s.n}: ${s.min}–${s.max})`
}
