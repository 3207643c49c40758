import { AuthenticationError } from '@cy/core'
import type { Metadata } from '@grpc/grpc-js'
import type { ApiKeyGuard } from '@cy/http'
import { callKey } from './call-key.ts'

/**
 * The HTTP server's key check for calls: the same guard (keys held as digests, compared in constant time).
 * Throws the one error model's 401, which a call answers as UNAUTHENTICATED.
 */
export function checkCallKey(keys: ApiKeyGuard, metadata: Metadata): void {
  const key = callKey(metadata)
  if (keys.accepts(key)) return
  throw new AuthenticationError(key ? 'Incorrect API key provided' : 'Missing API key: send it in the x-api-key metadata (or authorization: Bearer <key>)')
}
