import { ApiError, type ApiErrorOptions } from './api-error.ts'

/** 403: the caller may not do this. */
export class PermissionDeniedError extends ApiError {
  readonly status = 403
  readonly type = 'permission_error' as const
  override readonly name = 'PermissionDeniedError'

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { code: null, ...options })
  }
}
