/** A client's own id is kept when it is 1 to 128 printable ASCII characters (no spaces): safe in a header and a log line. */
const ACCEPTABLE = /^[\x21-\x7e]{1,128}$/

/** The request's id: the client's `x-request-id` when acceptable, else a fresh UUID. */
export function requestIdFrom(headers: Headers): string {
  const sent = headers.get('x-request-id')
  return sent !== null && ACCEPTABLE.test(sent) ? sent : crypto.randomUUID()
}
