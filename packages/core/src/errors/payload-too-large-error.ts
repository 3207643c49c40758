import { ApiError, type ApiErrorOptions } from './api-error.ts'

/** 413: the request body is over the size limit. */
export class PayloadTooLargeError extends ApiError {
  readonly status = 413
  readonly type = 'invalid_request_error' as const
  override readonly name = 'PayloadTooLargeError'

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { code: 'payload_too_large', ...options })
  }
}
