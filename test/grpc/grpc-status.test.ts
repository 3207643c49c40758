import { type ApiError, AuthenticationError, BadRequestError, CancelledError, ConflictError, ModelNotFoundError, PermissionDeniedError, ProviderError, RateLimitError, ServiceUnavailableError, TimeoutError } from '@cy/core'
import { grpcError } from '@cy/grpc'
import { inferenceError } from '@cy/http'
import { status } from '@grpc/grpc-js'
import { describe, expect, test } from 'bun:test'

describe('grpcError: the one error model as gRPC status codes', () => {
  // The trailer carries the engine API's own code for the error, whatever its table says (the REST encoder's).
  const rows: Array<[ApiError, status]> = [
    [new BadRequestError('bad', { param: 'top_p' }), status.INVALID_ARGUMENT],
    [new AuthenticationError('who'), status.UNAUTHENTICATED],
    [new PermissionDeniedError('no'), status.PERMISSION_DENIED],
    [new ModelNotFoundError('m', ['a']), status.NOT_FOUND],
    [new ConflictError('busy'), status.FAILED_PRECONDITION],
    [new RateLimitError('full'), status.RESOURCE_EXHAUSTED],
    [new ServiceUnavailableError('loading'), status.UNAVAILABLE],
    [new TimeoutError('slow'), status.DEADLINE_EXCEEDED],
    [new CancelledError('left'), status.CANCELLED],
    [new ProviderError('engine died'), status.INTERNAL],
  ]
  for (const [error, code] of rows) {
    test(`${error.name} (${error.status}) → ${status[code]}`, () => {
      const mapped = grpcError(error)
      expect(mapped.code).toBe(code)
      expect(mapped.details).toBe(error.message)
      expect(mapped.metadata.get('error-code')).toEqual([inferenceError(error).body.error.code])
    })
  }

  test('anything else is INTERNAL without its message or stack', () => {
    const mapped = grpcError(new Error('secret path /etc/x'))
    expect(mapped.code).toBe(status.INTERNAL)
    expect(mapped.details).toBe('Internal server error')
    expect(mapped.metadata.get('error-code')).toEqual(['INTERNAL_ERROR'])
  })

  test('the field at fault goes in the trailers in the engine API’s words', () => {
    expect(grpcError(new BadRequestError('bad', { param: 'top_p' })).metadata.get('error-field')).toEqual(['generation.topP'])
  })
})
