import { AuthenticationError, PayloadTooLargeError } from '@cy/core'
import type { ApiContext } from '../api-context.ts'
import { ApiKeyGuard } from './api-key-guard.ts'
import { limitBody } from './body-limit.ts'
import { checkOrigin } from './cors.ts'
import { checkHost } from './host-check.ts'
import { isPublic } from './public-paths.ts'

/**
 * The path a router reads from a request's URL (a relative URL has no origin in front), up to the query.
 * Only meaningful once `checkHost` has refused a `Host` with `/`, `?` or `#` in it.
 */
export function routedPath(url: string): string {
  const start = url.charCodeAt(0) === 47 ? 0 : url.indexOf('/', url.indexOf('//') + 2)
  if (start < 0) return '/'
  const end = url.indexOf('?', start)
  return end < 0 ? url.slice(start) : url.slice(start, end)
}

/**
 * The checks every request passes before any body is read: its `Host` (400, or 403 for a name this
 * server does not answer to), its `Origin` (403), a declared body over the limit (413) and the API key
 * (401, on every path but the public ones). `path` is the one the router matched. Returns the request to
 * serve: a body without a declared length is counted as it is read.
 */
export function checkRequest(ctx: ApiContext, request: Request, path: string): Request {
  checkHost(request.headers.get('host'), ctx.hosts)
  checkOrigin(ctx.origins, request)
  const limit = ctx.bodyLimit(path)
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) {
    throw new PayloadTooLargeError(`The request body is ${declared} bytes; the limit is ${limit} bytes`)
  }
  if (ctx.apiKeys.enabled && !isPublic(request.method, path, ctx.openPaths)) {
    const key = ApiKeyGuard.keyFrom(request.headers)
    if (!ctx.apiKeys.accepts(key)) {
      throw new AuthenticationError(key ? 'Incorrect API key provided' : 'Missing API key: send it as `Authorization: Bearer <key>` or `X-API-Key`')
    }
  }
  if (declared === null && request.method !== 'GET' && request.method !== 'HEAD' && request.body) return limitBody(request, limit)
  return request
}
