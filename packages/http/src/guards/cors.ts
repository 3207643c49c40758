import { PermissionDeniedError } from '@cy/core'
import { errorResponse } from '../errors/error-response.ts'
import { isLoopbackName } from './host-check.ts'
import { routedPath } from './request-checks.ts'

const ALLOWED_METHODS = 'GET, POST, DELETE, OPTIONS'
const DEFAULT_HEADERS = 'authorization, content-type, x-api-key'

/**
 * Which browser origins may call the API besides pages served from this machine's loopback (always
 * allowed): every origin (`'*'`), or the listed ones (exact `scheme://host[:port]`).
 */
export type CorsOrigins = '*' | readonly string[]

export interface OriginPolicy {
  origins: CorsOrigins
  /** Pages of the origin the request's own `Host` names may call it: only safe when `Host` is checked. */
  sameOrigin: boolean
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin)
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackName(url.hostname)
  } catch {
    return false
  }
}

function isSameOrigin(origin: string, host: string | null): boolean {
  if (!host) return false
  try {
    return new URL(origin).host === host.toLowerCase()
  } catch {
    return false
  }
}

/** Is this `Origin` allowed? (`null`, sent by sandboxed pages and files, is allowed only by `'*'`.) */
export function allowsOrigin(policy: OriginPolicy, origin: string, host: string | null): boolean {
  if (policy.origins === '*' || policy.origins.includes(origin)) return true
  return isLoopbackOrigin(origin) || (policy.sameOrigin && isSameOrigin(origin, host))
}

/**
 * Refuses a browser request from an origin that may not call the API (403). Browsers send `Origin` on
 * every cross-origin request, the "simple" ones (`text/plain` POSTs, forms) too, which get no preflight:
 * refusing before anything runs is what keeps a web page from driving the server.
 */
export function checkOrigin(policy: OriginPolicy, request: Request): void {
  const origin = request.headers.get('origin')
  if (origin !== null && !allowsOrigin(policy, origin, request.headers.get('host'))) {
    throw new PermissionDeniedError(`Requests from the origin '${origin}' are not allowed (see --cors-origins)`, { code: 'origin_not_allowed' })
  }
}

/** The answer to a CORS preflight, or undefined when the request is not one. A refused origin gets 403. */
export function preflightResponse(request: Request, policy: OriginPolicy): Response | undefined {
  if (request.method !== 'OPTIONS') return undefined
  const origin = request.headers.get('origin')
  if (!origin || !request.headers.get('access-control-request-method')) return undefined
  if (!allowsOrigin(policy, origin, request.headers.get('host'))) {
    const refused = errorResponse(new PermissionDeniedError(`Requests from the origin '${origin}' are not allowed`, { code: 'origin_not_allowed' }), routedPath(request.url))
    refused.headers.set('vary', 'Origin')
    return refused
  }
  return new Response(null, {
    status: 204,
    headers: {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': ALLOWED_METHODS,
      'access-control-allow-headers': request.headers.get('access-control-request-headers') ?? DEFAULT_HEADERS,
      'access-control-max-age': '86400',
      vary: 'Origin',
    },
  })
}

/**
 * Adds the allow-origin header to a response for an allowed browser origin, in place, so the Response is
 * not rebuilt; requests without an `Origin` header (every non-browser client) cost one header lookup.
 */
export function applyCors(request: Request, response: Response, policy: OriginPolicy): Response {
  const origin = request.headers.get('origin')
  if (origin && allowsOrigin(policy, origin, request.headers.get('host'))) {
    response.headers.set('access-control-allow-origin', origin)
    response.headers.set('vary', 'Origin')
  }
  return response
}
