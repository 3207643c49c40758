import { ApiError, type ApiErrorOptions } from './api-error.ts'

/** 429: too many requests are waiting; try again later. */
export class RateLimitError extends ApiError {
  readonly status = 429
  readonly type = 'rate_limit_error' as const
  override readonly name = 'RateLimitError'

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { code: 'rate_limit_exceeded', ...options })
  }
}
