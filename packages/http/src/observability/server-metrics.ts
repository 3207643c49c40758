import { MODEL_STATES, type ModelRegistry } from '@cy/core'
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { LabelledCounter } from './labelled-counter.ts'
import { LabelledHistogram } from './labelled-histogram.ts'
import type { AccessRecord } from './access-record.ts'

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
const RATE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]

export interface MetricsSources {
  registry: ModelRegistry
  /** Requests in flight: the queued and active gauges count them by model when scraped. */
  inFlight: Iterable<AccessRecord>
}

/**
 * The server's Prometheus metrics, in a registry of its own (several servers in one process do not
 * collide). Counters and histograms move when a request finishes; the gauges are computed when scraped.
 */
export class ServerMetrics {
  readonly registry = new Registry()
  readonly #requests: LabelledCounter
  readonly #duration: LabelledHistogram
  readonly #firstToken: LabelledHistogram
  readonly #queueWait: LabelledHistogram
  readonly #promptTokens: LabelledCounter
  readonly #completionTokens: LabelledCounter
  readonly #tokensPerSecond: LabelledHistogram
  readonly #restarts: LabelledCounter
  readonly #tenantRequests: LabelledCounter
  readonly #tenantTokens: LabelledCounter

  constructor(sources: MetricsSources) {
    const registry = this.registry
    const registers = [registry]
    this.#requests = new LabelledCounter('cy_http_requests_total', 'HTTP requests by route, model and status', ['route', 'model', 'status'], registry)
    this.#duration = new LabelledHistogram(
      'cy_http_request_duration_seconds',
      'Time from a request to its last byte (a stream: its end), by route and model',
      ['route', 'model'],
      LATENCY_BUCKETS,
      registry,
    )
    this.#firstToken = new LabelledHistogram('cy_time_to_first_token_seconds', "Time from a handler's start to its first output", ['model'], LATENCY_BUCKETS, registry)
    this.#queueWait = new LabelledHistogram('cy_queue_wait_seconds', 'Time a request waited for a slot', ['model'], LATENCY_BUCKETS, registry)
    this.#promptTokens = new LabelledCounter('cy_prompt_tokens_total', 'Prompt tokens the models reported', ['model'], registry)
    this.#completionTokens = new LabelledCounter('cy_completion_tokens_total', 'Completion tokens the models reported', ['model'], registry)
    this.#tokensPerSecond = new LabelledHistogram(
      'cy_completion_tokens_per_second',
      "A request's completion tokens over the time from its first output to its end",
      ['model'],
      RATE_BUCKETS,
      registry,
    )
    this.#restarts = new LabelledCounter('cy_engine_restarts_total', "Restarts of a model's engine host after it died", ['model'], registry)
    // The engine API's tenants: a configured tenant's name, else `other`, so a client cannot make up labels.
    this.#tenantRequests = new LabelledCounter('cy_tenant_requests_total', 'Engine API requests by tenant, model and status', ['tenant', 'model', 'status'], registry)
    this.#tenantTokens = new LabelledCounter('cy_tenant_completion_tokens_total', 'Completion tokens the models reported, by tenant', ['tenant'], registry)
    const perModel = (name: string, help: string, count: (record: AccessRecord) => boolean) =>
      new Gauge({
        name,
        help,
        labelNames: ['model'],
        registers,
        collect() {
          this.reset()
          for (const model of sources.registry.list()) this.set({ model }, 0)
          for (const record of sources.inFlight) if (record.model !== undefined && count(record)) this.inc({ model: record.model })
        },
      })
    perModel('cy_requests_queued', 'Requests waiting for a slot, by model', (record) => record.startedAt === undefined)
    perModel('cy_requests_active', 'Requests whose handler runs, by model', (record) => record.startedAt !== undefined)
    const models = sources.registry
    new Gauge({
      name: 'cy_model_state',
      help: "1 for a model's current lifecycle state, 0 for the others",
      labelNames: ['model', 'state'],
      registers,
      collect() {
        this.reset()
        // Every state of every model, 1 on its current one: a dashboard sums by state, or alerts on failed.
        for (const model of models.list()) {
          const current = models.status(model)?.state ?? 'ready'
          for (const state of MODEL_STATES) this.set({ model, state }, state === current ? 1 : 0)
        }
      },
    })
    // Process memory, CPU and event loop lag, under their standard names (process_resident_memory_bytes...).
    collectDefaultMetrics({ register: registry })
  }

  /** Counts a finished request: `status` is the one the client got (499 when it left, a stream's error status). */
  finished(record: AccessRecord, route: string, status: number, now: number): void {
    const model = record.model ?? ''
    this.#requests.child(route, model, status).value++
    if (record.tenant !== undefined) {
      this.#tenantRequests.child(record.tenant, model, status).value++
      if (record.completionTokens) this.#tenantTokens.child(record.tenant).value += record.completionTokens
    }
    this.#duration.child(route, model).observe((now - record.start) / 1000)
    if (record.model === undefined || record.startedAt === undefined) return
    this.#queueWait.child(model).observe(record.queuedMs! / 1000)
    if (record.firstOutputAt !== undefined) this.#firstToken.child(model).observe((record.firstOutputAt - record.startedAt) / 1000)
    if (record.promptTokens) this.#promptTokens.child(model).value += record.promptTokens
    const completion = record.completionTokens
    if (completion) {
      this.#completionTokens.child(model).value += completion
      const seconds = record.firstOutputAt === undefined ? 0 : (now - record.firstOutputAt) / 1000
      if (seconds > 0) this.#tokensPerSecond.child(model).observe(completion / seconds)
    }
  }

  engineRestarted(model: string): void {
    this.#restarts.child(model).value++
  }

  /** The exposition text, and its content type. */
  async render(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType }
  }
}
