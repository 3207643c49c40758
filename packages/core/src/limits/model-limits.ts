import { ConcurrencyLimiter } from './concurrency-limiter.ts'

/** A model's own limits: what its engine runs at once (an adapter's `parallel`) and how many may wait. */
export interface ModelLimits {
  /** Requests the model runs at once (a positive integer). */
  maxConcurrency: number
  /** Requests that may wait for it before new ones get 429 (default four per slot; 0 for none). */
  maxQueue?: number
}

/** Waiting requests per slot when a model does not say: enough to keep its slots busy, not an unbounded pile. */
const QUEUE_PER_SLOT = 4

export function modelLimiter(limits: ModelLimits): ConcurrencyLimiter {
  const { maxConcurrency, maxQueue = QUEUE_PER_SLOT * maxConcurrency } = limits
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) throw new RangeError('A model’s maxConcurrency must be a positive integer')
  if (!(maxQueue >= 0)) throw new RangeError('A model’s maxQueue must be 0 or more')
  return new ConcurrencyLimiter({ maxConcurrency, maxQueue })
}
