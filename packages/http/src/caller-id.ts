import type { ApiContext } from './api-context.ts'
import { ApiKeyGuard } from './guards/api-key-guard.ts'

/**
 * Who is calling, for what belongs to a caller (stored responses, sessions): the SHA-256 of the API key
 * in hex, never the key itself; '' when the server has no keys, where every client is one caller.
 */
export function callerId(ctx: ApiContext, request: Request): string {
  if (!ctx.apiKeys.enabled) return ''
  const key = ApiKeyGuard.keyFrom(request.headers)
  return key ? new Bun.CryptoHasher('sha256').update(key).digest('hex') : ''
}
