import { ApiError, type ApiErrorOptions } from './api-error.ts'
import { AuthenticationError } from './authentication-error.ts'
import { BadRequestError } from './bad-request-error.ts'
import { CancelledError } from './cancelled-error.ts'
import { ConflictError } from './conflict-error.ts'
import { InternalError } from './internal-error.ts'
import { NotFoundError } from './not-found-error.ts'
import { PayloadTooLargeError } from './payload-too-large-error.ts'
import { PermissionDeniedError } from './permission-denied-error.ts'
import { ProviderError } from './provider-error.ts'
import { RateLimitError } from './rate-limit-error.ts'
import { TimeoutError } from './timeout-error.ts'

/** An error as it crosses a thread or process boundary. */
export interface WireError {
  message: string
  status?: number
  param?: string | null
  code?: string | null
}

const byStatus: Record<number, new (message: string, options?: ApiErrorOptions) => ApiError> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  429: RateLimitError,
  499: CancelledError,
  500: InternalError,
  502: ProviderError,
  504: TimeoutError,
}

export function errorToWire(error: unknown): WireError {
  if (ApiError.isInstance(error)) return { message: error.message, status: error.status, param: error.param, code: error.code }
  return { message: error instanceof Error ? error.message : String(error) }
}

/** Rebuilds the typed error; an error without a known status is a provider failure (502). */
export function errorFromWire(wire: WireError): ApiError {
  const ErrorClass = (wire.status !== undefined && byStatus[wire.status]) || ProviderError
  const options: ApiErrorOptions = { param: wire.param ?? null }
  if (wire.code != null) options.code = wire.code
  return new ErrorClass(wire.message, options)
}
