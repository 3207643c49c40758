import { ApiError, type ApiErrorOptions } from './api-error.ts'

/** 500: something broke inside the server. */
export class InternalError extends ApiError {
  readonly status = 500
  readonly type = 'server_error' as const
  override readonly name = 'InternalError'

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { code: null, ...options })
  }
}
