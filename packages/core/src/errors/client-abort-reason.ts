import { ApiError } from './api-error.ts'
import { CancelledError } from './cancelled-error.ts'

/** Why a request whose signal fired ends: the signal's own typed error, else "the client closed it". */
export function clientAbortReason(signal: AbortSignal): ApiError {
  return ApiError.isInstance(signal.reason) ? signal.reason : new CancelledError('The client closed the request')
}
