import type { DispatchTrace } from '@cy/core'

// The trace's fields (model, queue wait, first output, usage, channel, error), declared once in core.
export interface AccessRecord extends DispatchTrace {}

/**
 * One request as the access log and the metrics see it. It is the dispatcher's trace too, so the model,
 * queue wait, first output and usage land here without a copy.
 */
export class AccessRecord {
  /** The route's pattern (`/v1/models/:model`), once the router matched one. */
  route: string | undefined
  /** `performance.now()` when the request came in. */
  readonly start = performance.now()
  /** The engine API's metadata (`/api/v1`): the tenant's metrics label, and the player and locale for the log. */
  tenant: string | undefined
  playerId: string | undefined
  locale: string | undefined

  readonly #request: Request

  constructor(
    /** The request's id (`x-request-id`); an engine API request's `metadata.traceId` replaces it. */
    public id: string,
    request: Request,
    readonly client: string | undefined,
    route: string | undefined,
  ) {
    this.#request = request
    this.route = route
  }

  get method(): string {
    return this.#request.method
  }

  /** Read when asked (an unmatched request's log line): Bun builds the string on each read. */
  get url(): string {
    return this.#request.url
  }
}
