import { ApiError, type ApiErrorOptions } from './api-error.ts'

/** 504: the request took longer than the configured timeout. */
export class TimeoutError extends ApiError {
  readonly status = 504
  readonly type = 'timeout_error' as const
  override readonly name = 'TimeoutError'

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { code: 'timeout', ...options })
  }
}
