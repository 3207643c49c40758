import { MODEL_STATES, type ModelRegistry } from '@cy/core'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
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
  readonly #requests: Counter
  readonly #duration: Histogram
  readonly #firstToken: Histogram
  readonly #queueWait: Histogram
  readonly #promptTokens: Counter
  readonly #completionTokens: Counter
  readonly #tokensPerSecond: Histogram
  readonly #restarts: Counter

  constructor(sources: MetricsSources) {
    const registers = [this.registry]
    this.#requests = new Counter({ name: 'cy_http_requests_total', help: 'HTTP requests by route, model and status', labelNames: ['route', 'model', 'status'], registers })
    this.#duration = new Histogram({
      name: 'cy_http_request_duration_seconds',
      help: 'Time from a request to its last byte (a stream: its end), by route and model',
      labelNames: ['route', 'model'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.#firstToken = new Histogram({ name: 'cy_time_to_first_token_seconds', help: "Time from a handler's start to its first output", labelNames: ['model'], buckets: LATENCY_BUCKETS, registers })
    this.#queueWait = new Histogram({ name: 'cy_queue_wait_seconds', help: 'Time a request waited for a slot', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers })
    this.#promptTokens = new Counter({ name: 'cy_prompt_tokens_total', help: 'Prompt tokens the models reported', labelNames: ['model'], registers })
    this.#completionTokens = new Counter({ name: 'cy_completion_tokens_total', help: 'Completion tokens the models reported', labelNames: ['model'], registers })
    this.#tokensPerSecond = new Histogram({
      name: 'cy_completion_tokens_per_second',
      help: "A request's completion tokens over the time from its first output to its end",
      labelNames: ['model'],
      buckets: RATE_BUCKETS,
      registers,
    })
    this.#restarts = new Counter({ name: 'cy_engine_restarts_total', help: "Restarts of a model's engine host after it died", labelNames: ['model'], registers })
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
    const { registry } = sources
    new Gauge({
      name: 'cy_model_state',
      help: "1 for a model's current lifecycle state, 0 for the others",
      labelNames: ['model', 'state'],
      registers,
      collect() {
        this.reset()
        // Every state of every model, 1 on its current one: a dashboard sums by state, or alerts on failed.
        for (const model of registry.list()) {
          const current = registry.status(model)?.state ?? 'ready'
          for (const state of MODEL_STATES) this.set({ model, state }, state === current ? 1 : 0)
        }
      },
    })
    // Process memory, CPU and event loop lag, under their standard names (process_resident_memory_bytes...).
    collectDefaultMetrics({ register: this.registry })
  }

  /** Counts a finished request: `status` is the one the client got (499 when it left, a stream's error status). */
  finished(record: AccessRecord, route: string, status: number, now: number): void {
    const model = record.model ?? ''
    this.#requests.inc({ route, model, status })
    this.#duration.observe({ route, model }, (now - record.start) / 1000)
    if (record.model === undefined || record.startedAt === undefined) return
    const labels = { model }
    this.#queueWait.observe(labels, record.queuedMs! / 1000)
    if (record.firstOutputAt !== undefined) this.#firstToken.observe(labels, (record.firstOutputAt - record.startedAt) / 1000)
    if (record.promptTokens) this.#promptTokens.inc(labels, record.promptTokens)
    const completion = record.completionTokens
    if (completion) {
      this.#completionTokens.inc(labels, completion)
      const seconds = record.firstOutputAt === undefined ? 0 : (now - record.firstOutputAt) / 1000
      if (seconds > 0) this.#tokensPerSecond.observe(labels, completion / seconds)
    }
  }

  engineRestarted(model: string): void {
    this.#restarts.inc({ model })
  }

  /** The exposition text, and its content type. */
  async render(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType }
  }
}
