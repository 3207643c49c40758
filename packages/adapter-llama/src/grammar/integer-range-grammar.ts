/** The largest bound a range may have: 15 digits, all exact in a double. */
export const LARGEST = 10 ** 15 - 1

/** Integers of the same number of digits from `lo` to `hi` (decimal strings, `lo <= hi`). */
function sameLength(lo: string, hi: string): string[] {
  if (lo === hi) return [JSON.stringify(lo)]
  const n = lo.length
  if (n === 1) return [`[${lo}-${hi}]`]
  if (lo[0] === hi[0]) return sameLength(lo.slice(1), hi.slice(1)).map((rest) => `"${lo[0]}" ${rest}`)
  const lowRest = lo.slice(1)
  const highRest = hi.slice(1)
  const lowWhole = /^0*$/.test(lowRest)
  const highWhole = /^9*$/.test(highRest)
  const out: string[] = []
  const a = Number(lo[0]) + (lowWhole ? 0 : 1)
  const b = Number(hi[0]) - (highWhole ? 0 : 1)
  if (!lowWhole) out.push(...sameLength(lowRest, '9'.repeat(n - 1)).map((rest) => `"${lo[0]}" ${rest}`))
  if (a <= b) out.push(`${a === b ? `"${a}"` : `[${a}-${b}]`} [0-9]{${n - 1}}`)
  if (!highWhole) out.push(...sameLength('0'.repeat(n - 1), highRest).map((rest) => `"${hi[0]}" ${rest}`))
  return out
}

/** Non-negative integers from `lo` to `hi` (inclusive), without leading zeros. */
function naturals(lo: number, hi: number): string[] {
  const out: string[] = []
  for (let digits = String(lo).length; digits <= String(hi).length; digits++) {
    const from = Math.max(lo, digits === 1 ? 0 : 10 ** (digits - 1))
    const to = Math.min(hi, 10 ** digits - 1)
    if (from <= to) out.push(...sameLength(String(from), String(to)))
  }
  return out
}

/**
 * GBNF for the integers from `min` to `max` (either may be absent: unbounded), as JSON writes them.
 * Bounds within ±LARGEST only; the caller checks.
 */
export function integerRangeGrammar(min: number | undefined, max: number | undefined): string {
  const low = min ?? -LARGEST
  const high = max ?? LARGEST
  const branches: string[] = []
  if (low < 0) {
    // -x for x from max(1, -high) to -low.
    const parts = naturals(Math.max(1, -high), -low)
    branches.push(`"-" (${parts.join(' | ')})`)
  }
  if (high >= 0) branches.push(...naturals(Math.max(0, low), high))
  return `(${branches.join(' | ')})`
}
