import { ApiError, type ApiErrorOptions } from './api-error.ts'

/** 401: the API key is missing or wrong. */
export class AuthenticationError extends ApiError {
  readonly status = 401
  readonly type = 'authentication_error' as const
  override readonly name = 'AuthenticationError'

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { code: 'invalid_api_key', ...options })
  }
}
