import { ApiError, InternalError, RetryLaterError, toApiError } from '@cy/core'
import { engineErrorBody, isEngineApiPath } from '../engine-api/engine-error.ts'
import { jsonResponse } from '../json-response.ts'

/**
 * The error Response for anything thrown while serving a request: one error model, two encoders by the
 * request's path: the engine API's shape under `/api/v1`, OpenAI's everywhere else.
 */
export function errorResponse(error: unknown, path?: string): Response {
  const apiError = toApiError(error)
  if (apiError instanceof InternalError || !ApiError.isInstance(error)) logUnexpected(error)
  const headers: Record<string, string> = {}
  if (apiError.status === 401) headers['www-authenticate'] = 'Bearer'
  // Every "try again later" says when: the error's own hint, else a second.
  if (apiError.status === 429 || apiError.status === 503) headers['retry-after'] = String(apiError instanceof RetryLaterError ? apiError.retryAfterSeconds : 1)
  return jsonResponse(path !== undefined && isEngineApiPath(path) ? engineErrorBody(apiError) : apiError.toJSON(), apiError.status, headers)
}

function logUnexpected(error: unknown): void {
  // The client gets a bare 500; the operator gets the details.
  console.error('[cy/http] unexpected error:', error)
}
