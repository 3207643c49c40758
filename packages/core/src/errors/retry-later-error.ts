import { ApiError, type ApiErrorOptions } from './api-error.ts'

export interface RetryableErrorOptions extends ApiErrorOptions {
  /** Seconds the client should wait before trying again (`Retry-After`; default 1). */
  retryAfterSeconds?: number
}

/** Base of the "try again later" errors (429, 503): each says when, as the `Retry-After` header. */
export abstract class RetryLaterError extends ApiError {
  readonly retryAfterSeconds: number

  constructor(message: string, options: RetryableErrorOptions = {}) {
    super(message, options)
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1
  }
}
