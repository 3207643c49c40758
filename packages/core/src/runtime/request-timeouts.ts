/** The three limits of a request's life; each 0 or Infinity for none. */
export interface RequestTimeouts {
  /** Milliseconds a request may wait for a slot (its model's and the server's); past it 503 with `Retry-After`. */
  queueTimeoutMs: number
  /** Milliseconds from the handler's start to its first output (prompt processing); past it 504. */
  firstTokenTimeoutMs: number
  /** Milliseconds a running handler may go without output; past it 504 (a stream ends with an error event). */
  idleTimeoutMs: number
}

/** Generous, since prompt processing on a CPU can take minutes; none of them caps a healthy stream. */
export const DEFAULT_TIMEOUTS: Readonly<RequestTimeouts> = { queueTimeoutMs: 300_000, firstTokenTimeoutMs: 600_000, idleTimeoutMs: 120_000 }

const KEYS = ['queueTimeoutMs', 'firstTokenTimeoutMs', 'idleTimeoutMs'] as const

/**
 * `timeoutMs` (the older single setting) sets all three, each phase's own limit; the specific ones win.
 * Throws RangeError for a negative or non-numeric value.
 */
export function resolveTimeouts(base: Readonly<RequestTimeouts>, options: Partial<RequestTimeouts> & { timeoutMs?: number }): RequestTimeouts {
  const all = options.timeoutMs
  const resolved = { ...base }
  for (const key of KEYS) {
    const value = options[key] ?? all
    if (value === undefined) continue
    if (!(value >= 0)) throw new RangeError(`${key} must be 0 (none) or a positive number of milliseconds`)
    resolved[key] = value
  }
  return resolved
}
