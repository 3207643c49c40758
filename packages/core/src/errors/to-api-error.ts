import { ApiError } from './api-error.ts'
import { InternalError } from './internal-error.ts'
import { ProviderError } from './provider-error.ts'

/**
 * Turns anything thrown into a typed error. Unknown errors from a provider become 502 with their
 * message (a provider's own words help the caller); anything else becomes a 500 without details,
 * so no stack or internal message leaks.
 */
export function toApiError(error: unknown, origin: 'provider' | 'server' = 'server'): ApiError {
  if (ApiError.isInstance(error)) return error
  if (origin === 'provider') {
    const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'The model provider failed'
    return new ProviderError(message || 'The model provider failed', { cause: error })
  }
  return new InternalError('Internal server error', { cause: error })
}
