import { ApiError, type ApiErrorOptions } from './api-error.ts'

/** 502: the model provider or engine failed. */
export class ProviderError extends ApiError {
  readonly status = 502
  readonly type = 'upstream_error' as const
  override readonly name = 'ProviderError'

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, { code: 'provider_error', ...options })
  }
}
