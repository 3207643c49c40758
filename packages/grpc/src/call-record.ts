import type { ApiContext, InferenceBody } from '@cy/http'
import type { Metadata } from '@grpc/grpc-js'

/** The access record of a call (the HTTP requests' kind: one access line and the request metrics, under this route). */
export type CallRecord = ReturnType<ApiContext['observer']['begin']>

/** Call metadata that names the request's id, as the HTTP headers of the same names do. */
const ID_METADATA = ['x-request-id', 'traceparent']

/**
 * Opens the call's access record under `route` (its gRPC path). Its id is `metadata.trace_id`, else the
 * call's `x-request-id` or W3C `traceparent` metadata, else a new one, as for `/api/v1`; the tenant
 * labels its metrics, and the player and locale go to the access line.
 */
export function beginCallRecord(ctx: ApiContext, route: string, metadata: Metadata, peer: string, body: InferenceBody | undefined): CallRecord {
  const headers = new Headers()
  for (const name of ID_METADATA) {
    const value = metadata.get(name)[0]
    if (typeof value === 'string') headers.set(name, value)
  }
  // Never sent anywhere: it only carries the call's method, path and id headers into the record.
  const record = ctx.observer.begin(new Request(`http://grpc${route}`, { method: 'POST', headers }), route, peer)
  const meta = body?.metadata
  if (meta?.traceId) record.id = meta.traceId
  record.tenant = ctx.tenants.label(meta?.tenant)
  record.playerId = meta?.playerId
  record.locale = meta?.locale
  return record
}
