import type { Metadata } from '@grpc/grpc-js'
import { ApiKeyGuard } from '@cy/http'

/** The key a call carries in `x-api-key` or `authorization: Bearer <key>`, read as the HTTP guard reads headers. */
export function callKey(metadata: Metadata): string | undefined {
  const headers = new Headers()
  for (const name of ['authorization', 'x-api-key']) {
    const value = metadata.get(name)[0]
    if (typeof value === 'string') headers.set(name, value)
  }
  return ApiKeyGuard.keyFrom(headers)
}
