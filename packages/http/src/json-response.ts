const JSON_HEADERS = { 'content-type': 'application/json' }

/** A JSON Response; built by hand so Elysia neither re-serializes nor re-validates bodies on the hot path. */
export function jsonResponse(body: unknown, status = 200, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS })
}

/** A JSON Response from text already serialized. */
export function rawJsonResponse(json: string, status = 200): Response {
  return new Response(json, { status, headers: JSON_HEADERS })
}

export function textResponse(body: string, contentType = 'text/plain; charset=utf-8'): Response {
  return new Response(body, { headers: { 'content-type': contentType } })
}
