import { AuthenticationError, PayloadTooLargeError } from '@cy/core'
import type { ApiContext } from '../api-context.ts'
import { IMAGE_FILES_PATH } from '../routes/image-files-path.ts'
import { ApiKeyGuard } from './api-key-guard.ts'
import { limitBody } from './body-limit.ts'

/** Paths that need the API key: the API itself, except image links (their random id is the permission). */
function needsKey(pathname: string): boolean {
  return pathname.startsWith('/v1/') && !pathname.startsWith(IMAGE_FILES_PATH)
}

/** Where a request's path starts in its URL, without parsing the whole URL. */
function pathname(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  const end = url.indexOf('?', start)
  return start < 0 ? '/' : end < 0 ? url.slice(start) : url.slice(start, end)
}

/**
 * The checks every request passes before any body is read: a declared body over the limit (413) and
 * the API key (401). Returns the request to serve: a body without a declared length is counted as read.
 */
export function checkRequest(ctx: ApiContext, request: Request): Request {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > ctx.maxBodyBytes) {
    throw new PayloadTooLargeError(`The request body is ${declared} bytes; the limit is ${ctx.maxBodyBytes} bytes`)
  }
  if (ctx.apiKeys.enabled && needsKey(pathname(request.url))) {
    const key = ApiKeyGuard.keyFrom(request.headers)
    if (!ctx.apiKeys.accepts(key)) {
      throw new AuthenticationError(key ? 'Incorrect API key provided' : 'Missing API key: send it as `Authorization: Bearer <key>` or `X-API-Key`')
    }
  }
  if (declared === null && request.method !== 'GET' && request.method !== 'HEAD' && request.body) return limitBody(request, ctx.maxBodyBytes)
  return request
}
