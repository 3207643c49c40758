import { Metadata, status, type ServiceError } from '@grpc/grpc-js'
import { inferenceError } from '@cy/http'

/** The one error model's HTTP statuses as gRPC codes; any other is INTERNAL. */
const BY_STATUS: Record<number, status> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  409: status.FAILED_PRECONDITION,
  413: status.INVALID_ARGUMENT,
  429: status.RESOURCE_EXHAUSTED,
  499: status.CANCELLED,
  501: status.UNIMPLEMENTED,
  503: status.UNAVAILABLE,
  504: status.DEADLINE_EXCEEDED,
}

/** Engine codes whose gRPC code is not their status's: a busy outputDir is a state to wait out (or cancel), not a bad argument. */
const BY_CODE: Record<string, status> = {
  TRAINING_JOB_RUNNING: status.FAILED_PRECONDITION,
}

/** Errors of the one model that gRPC names otherwise than their status: a server without training (REST's 400) is a service it does not implement. */
const BY_ERROR_CODE: Record<string, status> = {
  training_unavailable: status.UNIMPLEMENTED,
}

/**
 * Anything thrown as a gRPC error: the code from the one error model's status, its message as the
 * details (never a stack: unknown errors are "Internal server error"), and the engine API's error code
 * and field in the trailers (`error-code: MODEL_NOT_FOUND`, `error-field: modelId`).
 */
export function grpcError(thrown: unknown): Partial<ServiceError> & { code: status; details: string; metadata: Metadata } {
  const { status: httpStatus, body, error } = inferenceError(thrown)
  const metadata = new Metadata()
  metadata.set('error-code', body.error.code)
  const field = body.error.details[0]?.field
  if (field) metadata.set('error-field', field)
  const code = (error.code ? BY_ERROR_CODE[error.code] : undefined) ?? BY_CODE[body.error.code] ?? BY_STATUS[httpStatus] ?? status.INTERNAL
  return { code, details: body.error.message, metadata }
}
