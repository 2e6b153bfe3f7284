/* global document */
// The operations page's arithmetic on snapshots (plugins/operations.ts): counter rates and the
// p99 of the latency histogram between two samples, as Prometheus' rate() and histogram_quantile().

/** Per-second increase of a counter between two snapshots of one instance (0 after a restart). */
export function rate (before, after, name) {
  if (!before || !after || after.at <= before.at) return 0
  const increase = (after.counters[name] ?? 0) - (before.counters[name] ?? 0)
  return increase < 0 ? 0 : increase / ((after.at - before.at) / 1000)
}

/** Bucket increases between two snapshots, summed over instances: [[le, count], …] cumulative. */
export function bucketIncrease (pairs) {
  const sums = new Map()
  for (const [before, after] of pairs) {
    const old = new Map(before?.latencyBuckets ?? [])
    for (const [le, count] of after.latencyBuckets) sums.set(le, (sums.get(le) ?? 0) + Math.max(0, count - (old.get(le) ?? 0)))
  }
  const bound = (le) => (le === '+Inf' ? Infinity : Number(le))
  return [...sums].sort((a, b) => bound(a[0]) - bound(b[0]))
}

/** The q-quantile (seconds) of cumulative buckets, interpolated inside its bucket; null without events. */
export function quantile (q, buckets) {
  const total = buckets.length ? buckets[buckets.length - 1][1] : 0
  if (total === 0) return null
  const rank = q * total
  let lower = 0
  let below = 0
  for (const [le, count] of buckets) {
    const upper = le === '+Inf' ? Infinity : Number(le)
    if (count >= rank) {
      // Over the last finite bound: that bound is all that is known (as Prometheus answers).
      if (upper === Infinity) return lower
      return lower + (upper - lower) * ((rank - below) / Math.max(1, count - below))
    }
    lower = upper
    below = count
  }
  return lower
}

const SVG = 'http://www.w3.org/2000/svg'

/** Draws a series (oldest first) as a line in a 300×80 SVG, scaled to its own maximum. */
export function drawChart (svg, values) {
  const max = Math.max(1e-9, ...values)
  const step = values.length > 1 ? 300 / (values.length - 1) : 0
  const line = document.createElementNS(SVG, 'polyline')
  line.setAttribute('points', values.map((v, i) => `${(i * step).toFixed(1)},${(78 - (v / max) * 74).toFixed(1)}`).join(' '))
  svg.replaceChildren(line)
  svg.dataset.points = String(values.length)
  svg.dataset.max = String(max)
}
