const ALLOWED_METHODS = 'GET, POST, DELETE, OPTIONS'
const DEFAULT_HEADERS = 'authorization, content-type, x-api-key'

/** Which browser origins may call the API: all, a list, or none. */
export type CorsOrigins = true | readonly string[] | false

const allows = (origins: CorsOrigins, origin: string) => origins === true || (origins !== false && origins.includes(origin))

/**
 * The answer to a CORS preflight, or undefined when the request is not one. A refused origin gets a
 * preflight without allow headers, which the browser reads as "no".
 */
export function preflightResponse(request: Request, origins: CorsOrigins): Response | undefined {
  if (origins === false || request.method !== 'OPTIONS') return undefined
  const origin = request.headers.get('origin')
  if (!origin || !request.headers.get('access-control-request-method')) return undefined
  if (!allows(origins, origin)) return new Response(null, { status: 204, headers: { vary: 'Origin' } })
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
export function applyCors(request: Request, response: Response, origins: CorsOrigins): Response {
  if (origins === false) return response
  const origin = request.headers.get('origin')
  if (origin && allows(origins, origin)) {
    response.headers.set('access-control-allow-origin', origin)
    response.headers.set('vary', 'Origin')
  }
  return response
}
