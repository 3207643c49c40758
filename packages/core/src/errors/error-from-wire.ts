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
import { ServiceUnavailableError } from './service-unavailable-error.ts'
import { TimeoutError } from './timeout-error.ts'

/** An error as it crosses a thread or process boundary. */
export interface WireError {
  message: string
  status?: number
  /** The sender's OpenAI error type: a status does not fix it (a 404 `model_not_found` is an invalid request). */
  type?: string
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
  503: ServiceUnavailableError,
  504: TimeoutError,
}

export function errorToWire(error: unknown): WireError {
  if (ApiError.isInstance(error)) return { message: error.message, status: error.status, type: error.type, param: error.param, code: error.code }
  return { message: error instanceof Error ? error.message : String(error) }
}

/** The error types this server emits: those of the classes above. */
const TYPES = new Set<string>(Object.values(byStatus).map((ErrorClass) => new ErrorClass('').type))

/**
 * Rebuilds the typed error; an error without a known status is a provider failure (502). The status picks
 * the class (callers test `instanceof RateLimitError`); the sender's `type` is kept, so the error reads as
 * the sender wrote it.
 */
export function errorFromWire(wire: WireError): ApiError {
  const KnownClass = wire.status !== undefined ? byStatus[wire.status] : undefined
  const ErrorClass = KnownClass ?? ProviderError
  const options: ApiErrorOptions = { param: wire.param ?? null }
  if (wire.code != null) options.code = wire.code
  const error = new ErrorClass(wire.message, options)
  if (KnownClass && wire.type && wire.type !== error.type && TYPES.has(wire.type)) Object.defineProperty(error, 'type', { value: wire.type, enumerable: true })
  return error
}
