import { RetryLaterError, type RetryableErrorOptions } from './retry-later-error.ts'

/** 429: too many requests are waiting; try again later (after `retryAfterSeconds`). */
export class RateLimitError extends RetryLaterError {
  readonly status = 429
  readonly type = 'rate_limit_error' as const
  override readonly name = 'RateLimitError'

  constructor(message: string, options: RetryableErrorOptions = {}) {
    super(message, { code: 'rate_limit_exceeded', ...options })
  }
}
