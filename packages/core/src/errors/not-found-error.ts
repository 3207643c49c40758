import { ApiError, type ApiErrorOptions } from './api-error.ts'

/** 404: the resource does not exist. */
export class NotFoundError extends ApiError {
  readonly status = 404
  readonly type = 'not_found_error' as const
  override readonly name = 'NotFoundError'

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { code: null, ...options })
  }
}
