/** Small statistics and table helpers for the benchmark report. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Whole numbers for big figures, a few significant digits for small ones (µs per request). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US')
  if (Math.abs(value) >= 100) return value.toFixed(0)
  if (Math.abs(value) >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

/** "min–max" of a series, to show how noisy the rounds were. */
export function formatRange(values: readonly number[]): string {
  if (values.length === 0) return 'n/a'
  return `${formatNumber(Math.min(...values))}–${formatNumber(Math.max(...values))}`
}

/** A plain left-aligned text table; the first row is the header. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  const line = (row: readonly string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd()
  const [header, ...body] = rows
  if (!header) return ''
  return [line(header), widths.map((w) => '-'.repeat(w)).join('   '), ...body.map(line)].join('\n')
}
