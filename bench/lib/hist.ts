import hdr from 'hdr-histogram-js'

type Histogram = ReturnType<typeof hdr.build>

/** Latencies in microseconds, 1 µs to 10 min, 3 significant digits. */
export function createHistogram (): Histogram {
  return hdr.build({ bitBucketSize: 'packed', lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 })
}

export function recordMs (histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.max(1, Math.round(ms * 1000)))
}

export const encode = (histogram: Histogram): string => hdr.encodeIntoCompressedBase64(histogram)

/** Merges the clients' histograms: percentiles come from the merged counts, never averaged. */
export function merge (encoded: string[]): Histogram {
  const total = createHistogram()
  for (const one of encoded) total.add(hdr.decodeFromCompressedBase64(one, 'packed'))
  return total
}

export interface LatencySummary { count: number, p50Ms: number, p99Ms: number, maxMs: number }

export function summarize (histogram: Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000
  return {
    count: histogram.totalCount,
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    maxMs: ms(histogram.maxValue)
  }
}
