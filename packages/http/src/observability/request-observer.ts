import type { ModelRegistry, ProgressChunk } from '@cy/core'
import { errorResponse } from '../errors/error-response.ts'
import { routedPath } from '../guards/request-checks.ts'
import { AccessRecord } from './access-record.ts'
import { createLogger, type Logger } from './logger.ts'
import { requestIdFrom } from './request-id.ts'
import { ServerMetrics } from './server-metrics.ts'

/** The route label of a request no route matched: never the path itself, which the client chooses. */
export const UNMATCHED_ROUTE = 'unmatched'
const ms = (value: number) => Math.round(value * 100) / 100

/**
 * Follows each request from its arrival to its last byte: gives it an id (the `x-request-id` of every
 * response), lends its record to the dispatcher as the trace, and when it ends writes its access line and
 * counts it in the metrics. A stream ends when its model's output closes.
 */
export class RequestObserver {
  readonly metrics: ServerMetrics
  logger: Logger
  readonly #records = new WeakMap<Request, AccessRecord>()
  readonly #inFlight = new Set<AccessRecord>()
  /** When each request last logged its progress. */
  readonly #progressLoggedAt = new WeakMap<AccessRecord, number>()

  constructor(registry: ModelRegistry, logger: Logger = createLogger({ level: 'silent' })) {
    this.logger = logger
    this.metrics = new ServerMetrics({ registry, inFlight: this.#inFlight })
  }

  /** Its metrics and logger hold cycles; the Elysia plugin stringifies its seed (the context) for a checksum. */
  toJSON(): string {
    return 'RequestObserver'
  }

  /** Whether access lines are written: the client's address is looked up only for them. */
  get logging(): boolean {
    return this.logger.isLevelEnabled('info')
  }

  /** Serves a request under observation: `handle`'s answer, with its id, logged and counted when it ends. */
  async serve(request: Request, route: string | undefined, client: string | undefined, handle: (request: Request) => Promise<Response> | Response): Promise<Response> {
    const record = this.begin(request, route, client)
    let response: Response
    try {
      response = await handle(request)
    } catch (error) {
      response = errorResponse(error, route ?? routedPath(request.url))
    }
    return this.answered(record, response)
  }

  /** A request came in; `route` is the pattern when the router already knows it. */
  begin(request: Request, route: string | undefined, client: string | undefined): AccessRecord {
    const record = new AccessRecord(requestIdFrom(request.headers), request, client, route)
    this.#records.set(request, record)
    this.#inFlight.add(record)
    return record
  }

  /** The record of a request (the one that came in, or the one the checks handed on for it). */
  record(request: Request): AccessRecord | undefined {
    return this.#records.get(request)
  }

  /** `served` stands for `original` from now on (the checks wrapped its body). */
  alias(served: Request, original: Request): void {
    const record = this.#records.get(original)
    if (record) this.#records.set(served, record)
  }

  /** The router matched `route` for this request. */
  routed(request: Request, route: string): void {
    const record = this.#records.get(request)
    if (record) record.route = route
  }

  /**
   * Long work (an image's sampling steps) reports how far it is: a `progress` line at most once a second
   * per request, and at its last step, so a client waiting on a plain JSON answer can be followed in the log.
   */
  progress(request: Request, chunk: ProgressChunk): void {
    const record = this.#records.get(request)
    if (!record || !this.logger.isLevelEnabled('info')) return
    const now = performance.now()
    const last = chunk.step !== undefined && chunk.step === chunk.steps
    if (!last && now - (this.#progressLoggedAt.get(record) ?? -Infinity) < 1000) return
    this.#progressLoggedAt.set(record, now)
    this.logger.info({ request_id: record.id, model: record.model, stage: chunk.stage, step: chunk.step, steps: chunk.steps, percent: Math.round(chunk.progress * 100) }, 'progress')
  }

  /**
   * The answer is ready: it gets the request id, and the request is logged now, or when its output closes
   * if that is still open (a stream). A stream's status is its error's when it failed or the client left.
   */
  answered(record: AccessRecord, response: Response): Response {
    response.headers.set('x-request-id', record.id)
    const channel = record.channel
    if (channel && !channel.closed) channel.onClose(() => this.#finish(record, record.error?.status ?? response.status))
    else this.#finish(record, response.status)
    return response
  }

  #finish(record: AccessRecord, status: number): void {
    this.#inFlight.delete(record)
    const now = performance.now()
    const route = record.route ?? UNMATCHED_ROUTE
    this.metrics.finished(record, route, status, now)
    const logger = this.logger
    if (!logger.isLevelEnabled('info')) return
    logger.info(
      {
        request_id: record.id,
        method: record.method,
        route: record.route ?? routedPath(record.url),
        model: record.model,
        status,
        prompt_tokens: record.promptTokens,
        completion_tokens: record.completionTokens,
        queue_ms: record.queuedMs === undefined ? undefined : ms(record.queuedMs),
        ttft_ms: record.firstOutputAt === undefined || record.startedAt === undefined ? undefined : ms(record.firstOutputAt - record.startedAt),
        duration_ms: ms(now - record.start),
        client: record.client,
        tenant: record.tenant,
        player_id: record.playerId,
        locale: record.locale,
        error: record.error?.code ?? undefined,
      },
      'request',
    )
  }
}
