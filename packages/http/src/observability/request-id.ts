/** A client's own id is kept when it is 1 to 128 printable ASCII characters (no spaces): safe in a header and a log line. */
const ACCEPTABLE = /^[\x21-\x7e]{1,128}$/

/** W3C Trace Context's `traceparent`: version, trace id, parent id, flags; an all-zero trace id is invalid. */
const TRACEPARENT = /^[0-9a-f]{2}-((?!0{32})[0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}(?:-.*)?$/

/**
 * The request's id: the client's `x-request-id` when acceptable, else the trace id of a valid W3C
 * `traceparent` (so the logs join the caller's distributed trace), else a fresh UUID.
 */
export function requestIdFrom(headers: Headers): string {
  const sent = headers.get('x-request-id')
  if (sent !== null && ACCEPTABLE.test(sent)) return sent
  const traceparent = headers.get('traceparent')
  const trace = traceparent === null ? null : TRACEPARENT.exec(traceparent.trim())
  return trace ? trace[1]! : crypto.randomUUID()
}
