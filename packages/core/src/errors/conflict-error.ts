import { ApiError, type ApiErrorOptions } from './api-error.ts'

/** 409: the request conflicts with the current state (a name already taken, a session already running). */
export class ConflictError extends ApiError {
  readonly status = 409
  readonly type = 'conflict_error' as const
  override readonly name = 'ConflictError'

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { code: null, ...options })
  }
}
