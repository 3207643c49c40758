import { RetryLaterError, type RetryableErrorOptions } from './retry-later-error.ts'

/** 503: the server is too busy to take the request now (it waited too long for a slot); try again later. */
export class ServiceUnavailableError extends RetryLaterError {
  readonly status = 503
  readonly type = 'server_error' as const
  override readonly name = 'ServiceUnavailableError'

  constructor(message: string, options: RetryableErrorOptions = {}) {
    super(message, { code: 'service_unavailable', ...options })
  }
}
