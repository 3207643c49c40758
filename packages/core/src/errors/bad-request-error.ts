import { ApiError, type ApiErrorOptions } from './api-error.ts'

/** 400: the request is malformed or names a bad parameter. */
export class BadRequestError extends ApiError {
  readonly status = 400
  readonly type = 'invalid_request_error' as const
  override readonly name = 'BadRequestError'

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { code: null, ...options })
  }
}
