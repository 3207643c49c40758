import { describe, expect, test } from 'bun:test'
import {
  ApiError,
  type ApiErrorType,
  AuthenticationError,
  BadRequestError,
  CancelledError,
  ConflictError,
  InternalError,
  ModelNotFoundError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  ProviderError,
  RateLimitError,
  TimeoutError,
  errorFromWire,
  errorToWire,
  toApiError,
  type ApiErrorOptions,
} from '@cy/core'

type ErrorClass = new (message: string, options?: ApiErrorOptions) => ApiError

// [class, status, OpenAI type, default code]
const classes: Array<[ErrorClass, number, ApiErrorType, string | null]> = [
  [BadRequestError, 400, 'invalid_request_error', null],
  [AuthenticationError, 401, 'authentication_error', 'invalid_api_key'],
  [PermissionDeniedError, 403, 'permission_error', null],
  [NotFoundError, 404, 'not_found_error', null],
  [ConflictError, 409, 'conflict_error', null],
  [PayloadTooLargeError, 413, 'invalid_request_error', 'payload_too_large'],
  [RateLimitError, 429, 'rate_limit_error', 'rate_limit_exceeded'],
  [CancelledError, 499, 'request_cancelled', 'request_cancelled'],
  [InternalError, 500, 'server_error', null],
  [ProviderError, 502, 'upstream_error', 'provider_error'],
  [TimeoutError, 504, 'timeout_error', 'timeout'],
]

describe('error classes', () => {
  for (const [ErrorClass, status, type, code] of classes) {
    test(`${ErrorClass.name}: ${status} ${type}, code ${code}`, () => {
      const error = new ErrorClass('something happened')
      expect(error).toBeInstanceOf(Error)
      expect(error).toBeInstanceOf(ApiError)
      expect(error.name).toBe(ErrorClass.name)
      expect(error.status).toBe(status)
      expect(error.type).toBe(type)
      expect(error.code).toBe(code)
      expect(error.param).toBeNull()
      expect(error.message).toBe('something happened')
    })
  }

  test('options override param and code and keep the cause', () => {
    const cause = new Error('root')
    const error = new RateLimitError('slow down', { param: 'model', code: 'custom', cause })
    expect(error.param).toBe('model')
    expect(error.code).toBe('custom')
    expect(error.cause).toBe(cause)
  })

  test('an explicit null code replaces the default', () => {
    expect(new ProviderError('x', { code: null }).code).toBeNull()
  })

  test('ModelNotFoundError: 404 invalid_request_error on param model, with the seed message', () => {
    const error = new ModelNotFoundError('x', ['a', 'b'])
    expect(error.status).toBe(404)
    expect(error.type).toBe('invalid_request_error')
    expect(error.param).toBe('model')
    expect(error.code).toBe('model_not_found')
    expect(error.message).toBe("Model 'x' is not available. Available models: a, b")
    expect(error.model).toBe('x')
    expect(error.available).toEqual(['a', 'b'])
    expect(new ModelNotFoundError('x', []).message).toBe("Model 'x' is not available. Available models: (none)")
  })
})

describe('toJSON', () => {
  test('has exactly the OpenAI error body shape', () => {
    const body = new BadRequestError('bad temperature', { param: 'temperature', code: 'invalid_value' }).toJSON()
    expect(body).toEqual({ error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' } })
    expect(Object.keys(body)).toEqual(['error'])
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type'])
  })

  test('JSON.stringify uses it, with nulls spelled out', () => {
    expect(JSON.parse(JSON.stringify(new InternalError('boom')))).toEqual({
      error: { message: 'boom', type: 'server_error', param: null, code: null },
    })
  })
})

describe('ApiError.isInstance', () => {
  test('holds for every subclass', () => {
    for (const [ErrorClass] of classes) expect(ApiError.isInstance(new ErrorClass('x'))).toBe(true)
  })

  test('does not hold for plain errors and non-errors', () => {
    for (const value of [new Error('x'), 'x', null, undefined, 42, { status: 400, message: 'x' }]) {
      expect(ApiError.isInstance(value)).toBe(false)
    }
  })

  test('holds for an object carrying the global marker (a second copy of @cy/core)', () => {
    expect(ApiError.isInstance({ [Symbol.for('cy.api-error')]: true })).toBe(true)
  })
})

describe('errorToWire / errorFromWire', () => {
  for (const [ErrorClass, status] of classes) {
    test(`${ErrorClass.name} round-trips by status ${status}`, () => {
      const original = new ErrorClass('over the wire', { param: 'p', code: 'c' })
      const wire = errorToWire(original)
      expect(wire).toEqual({ message: 'over the wire', status, type: original.type, param: 'p', code: 'c' })
      // What actually crosses a thread: a structured clone.
      const back = errorFromWire(structuredClone(wire))
      expect(back).toBeInstanceOf(ErrorClass)
      expect(back.status).toBe(status)
      expect(back.message).toBe('over the wire')
      expect(back.param).toBe('p')
      expect(back.code).toBe('c')
    })
  }

  test('a plain Error keeps only its message and comes back as ProviderError 502', () => {
    const wire = errorToWire(new Error('engine crashed'))
    expect(wire).toEqual({ message: 'engine crashed' })
    const back = errorFromWire(wire)
    expect(back).toBeInstanceOf(ProviderError)
    expect(back.status).toBe(502)
    expect(back.message).toBe('engine crashed')
    expect(back.code).toBe('provider_error')
  })

  test('a non-Error value is stringified', () => {
    expect(errorToWire('just a string')).toEqual({ message: 'just a string' })
  })

  test('an unknown status becomes ProviderError 502', () => {
    const back = errorFromWire({ message: 'teapot', status: 418 })
    expect(back).toBeInstanceOf(ProviderError)
    expect(back.status).toBe(502)
  })

  test('the sender’s type is kept: a model_not_found 404 stays an invalid request', () => {
    const back = errorFromWire(structuredClone(errorToWire(new ModelNotFoundError('ghost', ['a']))))
    expect(back.toJSON()).toEqual(new ModelNotFoundError('ghost', ['a']).toJSON())
    expect(back.status).toBe(404)
  })

  test('a missing code takes the class default', () => {
    expect(errorFromWire({ message: 'late', status: 504 }).code).toBe('timeout')
    expect(errorFromWire({ message: 'late', status: 504, code: null }).code).toBe('timeout')
  })
})

describe('toApiError', () => {
  test('passes an ApiError through unchanged, whatever the origin', () => {
    const error = new BadRequestError('x')
    expect(toApiError(error)).toBe(error)
    expect(toApiError(error, 'provider')).toBe(error)
  })

  test('hides an unknown server error behind a 500 "Internal server error"', () => {
    const secret = new Error('password=hunter2 at /etc/secret')
    const error = toApiError(secret)
    expect(error).toBeInstanceOf(InternalError)
    expect(error.status).toBe(500)
    expect(error.message).toBe('Internal server error')
    expect(JSON.stringify(error)).not.toContain('hunter2')
    expect(error.cause).toBe(secret)
  })

  test('a provider Error becomes ProviderError 502 with its message', () => {
    const cause = new Error('CUDA out of memory')
    const error = toApiError(cause, 'provider')
    expect(error).toBeInstanceOf(ProviderError)
    expect(error.status).toBe(502)
    expect(error.message).toBe('CUDA out of memory')
    expect(error.cause).toBe(cause)
  })

  test('a provider string becomes the message; anything else or an empty message gets a generic one', () => {
    expect(toApiError('engine said no', 'provider').message).toBe('engine said no')
    expect(toApiError(42, 'provider').message).toBe('The model provider failed')
    expect(toApiError(new Error(''), 'provider').message).toBe('The model provider failed')
  })
})
