/** Where an engine module runs: a Worker thread of this process, or a child process of its own. */
export type Isolation = 'worker' | 'process'

/** Reads an adapter's `isolation` option: 'process' or 'worker', else `fallback` when absent. */
export function isolationOption(value: unknown, adapter: string, fallback: Isolation): Isolation {
  if (value === undefined) return fallback
  if (value === 'process' || value === 'worker') return value
  throw new Error(`${adapter} option 'isolation' must be process or worker, not ${JSON.stringify(value)}`)
}
