/** The OpenAI error `type` values this server emits. */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  /** Seed 002's type of `model_not_downloaded`. */
  | 'model_not_found'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'request_cancelled'
  | 'server_error'
  | 'upstream_error'
  | 'timeout_error'

/** The wire body of every error: `{ "error": { message, type, param, code } }`. */
export interface ApiErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null }
}

export interface ApiErrorOptions {
  param?: string | null
  code?: string | null
  cause?: unknown
}

// A symbol from the global registry, so `isInstance` holds across duplicate installs of @cy/core.
const marker = Symbol.for('cy.api-error')

/** Base of every typed error: each subclass fixes its HTTP status and OpenAI error type. */
export abstract class ApiError extends Error {
  readonly [marker] = true
  abstract readonly status: number
  abstract readonly type: ApiErrorType
  readonly param: string | null
  readonly code: string | null

  constructor(message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.param = options.param ?? null
    this.code = options.code ?? null
  }

  static isInstance(value: unknown): value is ApiError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true
  }

  toJSON(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } }
  }
}
