import { ApiError, type ApiErrorOptions } from './api-error.ts'

/** 499: the client went away or cancelled the request. */
export class CancelledError extends ApiError {
  readonly status = 499
  readonly type = 'request_cancelled' as const
  override readonly name = 'CancelledError'

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { code: 'request_cancelled', ...options })
  }
}
