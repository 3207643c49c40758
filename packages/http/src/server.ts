import { IMAGE_EDITS_PATH } from './routes/image-edits.ts'
import {
  Dispatcher,
  ModelRegistry,
  ServiceUnavailableError,
  type Providers,
  type RequestTimeouts,
  type TrainingJobs,
} from '@cy/core'
import { Gateway, type GatewayOptions, type ModelToolSettings } from '@cy/gateway'
import { Elysia } from 'elysia'
import type { ApiContext } from './api-context.ts'
import { errorResponse } from './errors/error-response.ts'
import { ApiKeyGuard } from './guards/api-key-guard.ts'
import type { CorsOrigins } from './guards/cors.ts'
import { isLoopbackName, LOOPBACK_HOSTS, type AllowedHosts } from './guards/host-check.ts'
import { TenantLimits, type TenantOptions } from './engine-api/tenant-limits.ts'
import { ImageStore } from './images/image-store.ts'
import { ImageUrlResolver } from './media/image-url-resolver.ts'
import type { MediaOptions } from './media/media-options.ts'
import { ResponseStore } from './responses/response-store.ts'
import type { Logger } from './observability/logger.ts'
import { RequestObserver } from './observability/request-observer.ts'
import { METRICS_PATH } from './routes/metrics.ts'
import type { BuiltinModelControl } from './builtin-model-control.ts'
import type { ModelControl } from './model-control.ts'
import { ModelRegistrar, type ModelOptions } from './model-registrar.ts'
import { openaiPlugin } from './openai-plugin.ts'
import { jsonRouteHandler } from './routes/json-route.ts'
import { JSON_ROUTES } from './routes/json-routes.ts'

export interface ServerOptions {
  /** Port to listen on (default 8080; 0 picks a free one). */
  port?: number
  /**
   * Address to bind (default 127.0.0.1: this machine only, as llama-server and Ollama do; `0.0.0.0` for
   * every interface).
   */
  hostname?: string
  /** Accepted API key(s); none means the API is open. */
  apiKey?: string | string[]
  /** Requests that run at once (default: no limit). */
  maxConcurrency?: number
  /** Requests that may wait for a slot before new ones get 429 (default 1024). */
  maxQueue?: number
  /**
   * Sets the three timeouts below at once, each phase's own limit, not the whole request's (0 for none);
   * the specific ones win.
   */
  timeoutMs?: number
  /** Milliseconds a request may wait for a slot; past it 503 with `Retry-After` (default 300000; 0 for none). */
  queueTimeoutMs?: number
  /** Milliseconds from a handler's start to its first output (prompt processing); past it 504 (default 600000). */
  firstTokenTimeoutMs?: number
  /** Milliseconds a running handler may go without output; past it 504, or an error event mid-stream (default 120000). */
  idleTimeoutMs?: number
  /** Largest JSON request body in bytes (default 32 MiB). */
  maxBodyBytes?: number
  /**
   * Largest audio upload (transcriptions, translations) in bytes (default 100 MiB, the audio decoder's
   * own limit); a model whose metadata declares a larger `maxUploadBytes` raises it.
   */
  maxUploadBytes?: number
  /**
   * Browser origins that may call the API besides pages on this machine's loopback (always allowed):
   * `'*'` for any, or exact `scheme://host[:port]` origins. Others get 403. Default none.
   */
  corsOrigins?: CorsOrigins
  /** @deprecated `corsOrigins`: true is `'*'`, a list is the list, false is loopback pages only. */
  cors?: boolean | string[]
  /**
   * `Host` names the server answers to besides the loopback ones, against DNS rebinding (others get 403).
   * Default: only the loopback names when bound to loopback, any name otherwise; `'*'` for any.
   */
  allowedHosts?: '*' | string[]
  /**
   * Seconds a connection may stay silent while its request is being read, and between requests (default
   * 30, at most 255; 0 for none). Once a body is in, the handler's own time does not count: `idleTimeoutMs`
   * is the limit on a handler's silence.
   */
  readTimeoutSeconds?: number
  /** An SSE stream silent this long gets a `: keep-alive` comment (for proxies), in ms (default 10000). */
  sseKeepAliveMs?: number
  /**
   * How long an event stream waits for the handler's first output before it sends its 200 headers, in ms
   * (default 1000): an error before then (a full queue, a handler that fails at once) gets its own status;
   * past it the stream opens with a `: keep-alive` comment (a long prompt is being read) and keeps sending
   * them, and a later error is an SSE error event.
   */
  streamGraceMs?: number
  /** Serve `/openapi.json` and `/docs` (default true). */
  docs?: boolean
  /** Base URL used in links this server hands out (image URLs). */
  publicUrl?: string
  /** How long generated image links stay valid, in ms (default one hour). */
  imageUrlTtlMs?: number
  /** SQLite file for stored Responses API responses (default `:memory:`: gone with the process). */
  responsesDb?: string
  /** Days a stored response is kept after its conversation's last turn (default 30, as OpenAI). */
  responsesRetentionDays?: number
  /** The gateway: tool call validation, session tracking and its execution gate, the sanitizer. */
  gateway?: GatewayOptions
  /** Where each request's access line goes, at `info` (a pino logger, see `createLogger`; default none). */
  logger?: Logger
  /** Serve `GET /metrics` without the API key (default: it needs the key when one is set). */
  metricsPublic?: boolean
  /**
   * Chat images (`image_url` parts): which folders a path may name (default none), the size limit (20 MiB),
   * the fetch timeout (15 s), whether URLs may reach private addresses (no) and be fetched at all (yes).
   */
  media?: MediaOptions
  /**
   * The engine API's tenants (`/api/v1` `metadata.tenant`) by name: each named one is a metrics label of
   * its own (others count as `other`), and may have its own concurrency limit.
   */
  tenants?: Record<string, TenantOptions>
  /**
   * The model a `/v1/chat/completions` request without `model` (or with `default`, the seed's Lite mode)
   * goes to; unset: the only chat model registered, else such a request is a 400 naming `model`.
   */
  defaultModel?: string
}

const DEFAULT_MAX_BODY = 32 * 1024 * 1024
const DEFAULT_MAX_UPLOAD = 100 * 1024 * 1024
const DEFAULT_HOST = '127.0.0.1'
const DEFAULT_READ_TIMEOUT_S = 30
const DEFAULT_SSE_KEEP_ALIVE_MS = 10_000
const DEFAULT_STREAM_GRACE_MS = 1000
/** How long requests cut short at the end of a drain get to write their error before the connections close. */
const DRAIN_FLUSH_MS = 1000
/** The upload routes, whose bodies are audio or image files rather than JSON. */
const UPLOAD_PATHS = new Set(['/v1/audio/transcriptions', '/v1/audio/translations', IMAGE_EDITS_PATH])
const holdNothing = () => {}
/** Responses written as they are produced: events, and audio streamed as it is synthesized. */
const STREAMED = /^(?:text\/event-stream|audio\/)/
type BunServer = ReturnType<typeof Bun.serve>

/** The loopback names, the bound address and the listed ones; any when not loopback-bound and none listed. */
function allowedHostsFor(hostname: string, listed: ServerOptions['allowedHosts']): AllowedHosts {
  if (listed === '*' || (listed === undefined && !isLoopbackName(hostname))) return '*'
  const bound = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname
  return new Set([...LOOPBACK_HOSTS, bound, ...(listed ?? [])].map((name) => name.toLowerCase()))
}

function corsOriginsFrom(opts: ServerOptions): CorsOrigins {
  if (opts.corsOrigins !== undefined) return opts.corsOrigins
  if (opts.cors === true) return '*'
  return Array.isArray(opts.cors) ? opts.cors : []
}

/** The seed's library API: register models by name, then start an OpenAI-compatible server. */
export class Server extends ModelRegistrar {
  readonly registry = new ModelRegistry()
  readonly dispatcher: Dispatcher
  readonly app: Elysia<any, any, any, any, any, any, any>
  readonly #options: ServerOptions
  readonly #apiKeys = new ApiKeyGuard()
  readonly #ctx: ApiContext
  #listening: { port: number; hostname: string; server: BunServer } | undefined

  constructor(options: ServerOptions | number = {}) {
    super()
    this.#options = typeof options === 'number' ? { port: options } : { ...options }
    const opts = this.#options
    this.dispatcher = new Dispatcher(this.registry, {
      maxConcurrency: opts.maxConcurrency ?? Infinity,
      maxQueue: opts.maxQueue ?? 1024,
      timeoutMs: opts.timeoutMs,
      queueTimeoutMs: opts.queueTimeoutMs,
      firstTokenTimeoutMs: opts.firstTokenTimeoutMs,
      idleTimeoutMs: opts.idleTimeoutMs,
    })
    this.#apiKeys.set(opts.apiKey)
    const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY
    const maxUploadBytes = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD
    const hostname = opts.hostname ?? DEFAULT_HOST
    const ctx: ApiContext = {
      registry: this.registry,
      dispatcher: this.dispatcher,
      apiKeys: this.#apiKeys,
      images: new ImageStore(opts.imageUrlTtlMs),
      media: new ImageUrlResolver(opts.media),
      // An upload never stops short of what a loaded model says it takes.
      bodyLimit: (path) => (UPLOAD_PATHS.has(path) ? Math.max(maxUploadBytes, ...this.#declaredUploadLimits()) : maxBodyBytes),
      origins: { origins: corsOriginsFrom(opts), sameOrigin: false },
      hosts: allowedHostsFor(hostname, opts.allowedHosts),
      holdOpen: holdNothing,
      stream: { graceMs: opts.streamGraceMs ?? DEFAULT_STREAM_GRACE_MS, keepAliveMs: opts.sseKeepAliveMs ?? DEFAULT_SSE_KEEP_ALIVE_MS },
      startedAt: Date.now(),
      healthDetails: new Map(),
      gateway: new Gateway(opts.gateway),
      responses: new ResponseStore(opts.responsesDb, { retentionDays: opts.responsesRetentionDays }),
      observer: new RequestObserver(this.registry, opts.logger),
      openPaths: new Set(opts.metricsPublic ? [METRICS_PATH] : []),
      tenants: new TenantLimits(opts.tenants),
      ...(opts.defaultModel ? { defaultModel: opts.defaultModel } : {}),
      ...(opts.publicUrl ? { publicUrl: opts.publicUrl.replace(/\/$/, '') } : {}),
    }
    // Pages of the server's own origin may call it when that origin is a checked name.
    ctx.origins.sameOrigin = ctx.hosts !== '*'
    this.#ctx = ctx
    // standardHostname false: Elysia finds the path after `http://` rather than assuming a host of 4+ characters.
    this.app = new Elysia({ normalize: false, handler: { standardHostname: false } }).use(openaiPlugin(ctx, { docs: opts.docs !== false }))
  }

  /**
   * Registers several capabilities under one name (what adapters do). A name registered again for more
   * capabilities keeps its first tool settings, as it keeps its owner.
   */
  override registerModel(name: string, providers: Providers, options: ModelOptions = {}): this {
    const { toolCalls, toolValidation, ...registration } = options
    const known = this.registry.has(name)
    this.registry.register(name, providers, registration)
    if (!known) this.#ctx.gateway.setModel(name, { toolCalls, toolValidation })
    return this
  }

  unregisterModel(name: string): boolean {
    this.#ctx.gateway.setModel(name, undefined)
    return this.registry.unregister(name)
  }

  /** Changes how a registered model takes tools (a model registered before its engine loaded and said). */
  setModelToolSettings(name: string, settings: ModelToolSettings): this {
    if (this.registry.has(name)) this.#ctx.gateway.setModel(name, settings)
    return this
  }

  /** The model a chat request without `model` goes to (null: the only chat model, if there is one). */
  setDefaultModel(name: string | null): this {
    if (name) this.#ctx.defaultModel = name
    else delete this.#ctx.defaultModel
    return this
  }

  /** Who loads and unloads models on request (`POST /v1/models/{id}/load`, `/unload`) and names what `/ready` waits for. */
  setModelControl(control: ModelControl | undefined): this {
    this.#ctx.models = control
    return this
  }

  /** Who runs training jobs (`/api/v1/training/*`, gRPC TrainingService); none: those answer that training is off. */
  setTraining(training: TrainingJobs | undefined): this {
    if (training) this.#ctx.training = training
    else delete this.#ctx.training
    return this
  }

  /** Who serves the model catalog and its downloads (`/models/builtin`). */
  setBuiltinModels(control: BuiltinModelControl | undefined): this {
    this.#ctx.builtin = control
    return this
  }

  /** How a registered model takes tools (the gateway's settings for it). */
  modelToolSettings(name: string): ModelToolSettings {
    return this.#ctx.gateway.model(name)
  }

  listModels(): string[] {
    return this.registry.list()
  }

  hasModel(name: string): boolean {
    return this.registry.has(name)
  }

  setMaxConcurrency(max: number): this {
    this.dispatcher.limiter.set({ maxConcurrency: max })
    return this
  }

  setMaxQueue(max: number): this {
    this.dispatcher.limiter.set({ maxQueue: max })
    return this
  }

  /** Sets the queue, first-output and idle timeouts to `ms` each (0 for none); see `setTimeouts` for one of them. */
  setTimeout(ms: number): this {
    this.dispatcher.setTimeoutMs(ms)
    return this
  }

  setTimeouts(timeouts: Partial<RequestTimeouts>): this {
    this.dispatcher.setTimeouts(timeouts)
    return this
  }

  setApiKey(key: string | string[] | null): this {
    this.#apiKeys.set(key)
    return this
  }

  /** Changes gateway settings (tool validation, sessions and their gate, the sanitizer). */
  setGateway(options: GatewayOptions): this {
    this.#ctx.gateway.set(options)
    return this
  }

  /** What the routes share (registry, dispatcher, keys, gateway): for a service beside HTTP on the same models (gRPC). */
  get context(): ApiContext {
    return this.#ctx
  }

  /** The logger of the access lines (and of whatever the application writes through it). */
  get logger(): Logger {
    return this.#ctx.observer.logger
  }

  setLogger(logger: Logger): this {
    this.#ctx.observer.logger = logger
    return this
  }

  /** Counts a restart of a model's engine host after it died (`cy_engine_restarts_total`). */
  recordEngineRestart(model: string): this {
    this.#ctx.observer.metrics.engineRestarted(model)
    return this
  }

  /**
   * Adds a section to `/health/details` (which needs the API key when one is set; public `/health` keeps
   * to liveness and load), computed on each call (`cluster` for a master's workers).
   */
  setHealthDetail(name: string, detail: (() => unknown) | null): this {
    if (detail) this.#ctx.healthDetails.set(name, detail)
    else this.#ctx.healthDetails.delete(name)
    return this
  }

  /** Starts listening (on `port`, else the one from the options); resolves with the bound port and URL. */
  async start(port?: number): Promise<{ port: number; url: string }> {
    if (this.#listening) return this.address()
    const hostname = this.#options.hostname ?? DEFAULT_HOST
    // Bun's router takes the JSON routes straight to their handler (the one the Elysia plugin calls too);
    // everything else goes through Elysia.
    const readSeconds = Math.min(this.#options.readTimeoutSeconds ?? DEFAULT_READ_TIMEOUT_S, 255)
    /**
     * A request held open (its handler's silence exempt from the idle timeout) gets the timeout back with
     * its answer, or the connection would idle on forever after it. Bun does not count a streamed body's
     * writes as activity and ignores a timeout set once it has ended, so a stream closes its connection.
     */
    const finish = (request: Request, response: Response, bun: BunServer): Response => {
      if (STREAMED.test(response.headers.get('content-type') ?? '')) response.headers.set('connection', 'close')
      else bun.timeout(request, readSeconds)
      return response
    }
    const observer = this.#ctx.observer
    // The client's address is for the access line alone; looking it up costs on every request.
    const clientOf = (request: Request, bun: BunServer) => (observer.logging ? bun.requestIP(request)?.address : undefined)
    const routes: Record<string, { POST: (request: Request, bun: BunServer) => Promise<Response> }> = {}
    for (const route of JSON_ROUTES) {
      const handle = jsonRouteHandler(this.#ctx, route)
      routes[route.path] = { POST: async (request, bun) => finish(request, await observer.serve(request, route.path, clientOf(request, bun), handle), bun) }
    }
    const app = this.app
    const server: BunServer = Bun.serve({
      port: port ?? this.#options.port ?? 8080,
      hostname,
      // Never Bun's development error page (source, stack, cwd): errors that escape get the OpenAI shape.
      development: false,
      error: (error) => errorResponse(error),
      // A connection that stops sending while its request is read (or idles between requests) is closed;
      // a handler's own silence (a long generation) is exempt from the body's end (holdOpen) to its answer.
      idleTimeout: readSeconds,
      // No limit of Bun's own: it answers an empty 413 before any code of ours runs. The routes enforce
      // maxBodyBytes instead (declared and chunked bodies), with an OpenAI-shaped 413.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      routes,
      fetch: async (request, bun) => finish(request, await observer.serve(request, undefined, clientOf(request, bun), (served) => app.fetch(served)), bun),
    })
    if (server.port === undefined) throw new Error('The server did not start')
    this.#ctx.holdOpen = (request) => server.timeout(request, 0)
    this.#listening = { port: server.port, hostname, server }
    return this.address()
  }

  /**
   * Stops taking connections and lets the requests in flight finish for up to `drainMs`; those still
   * running then end with a 503 (an error event on a stream that has begun), and the connections close.
   * Resolves with how many requests were cut short.
   */
  async drain(drainMs: number): Promise<number> {
    if (!this.#listening) return 0
    const { server } = this.#listening
    const closed = server.stop(false)
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), drainMs)))
    const drained = Promise.all([closed, this.registry.whenIdle()])
    let cut = 0
    try {
      if ((await Promise.race([drained, deadline])) === 'deadline') {
        cut = this.registry.abortInFlight(new ServiceUnavailableError('The server is shutting down', { code: 'server_shutting_down' }))
        // The cut streams write their error event, then the connections go.
        clearTimeout(timer)
        await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, DRAIN_FLUSH_MS)))])
      }
    } finally {
      clearTimeout(timer)
    }
    await this.stop()
    return cut
  }

  /** Stops listening; requests in flight are closed. */
  async stop(): Promise<void> {
    if (!this.#listening) return
    const { server } = this.#listening
    this.#listening = undefined
    this.#ctx.holdOpen = holdNothing
    await server.stop(true)
  }

  /** Upload limits the loaded models declare (`metadata.maxUploadBytes`). */
  *#declaredUploadLimits(): Iterable<number> {
    for (const info of this.registry.infos()) {
      const declared = info.metadata.maxUploadBytes
      if (typeof declared === 'number' && Number.isFinite(declared)) yield declared
    }
  }

  get isRunning(): boolean {
    return this.#listening !== undefined
  }

  /** The bound port and address, and a URL to reach it (loopback when bound to all interfaces). */
  address(): { port: number; url: string; hostname: string } {
    if (!this.#listening) throw new Error('The server is not running')
    const { port, hostname } = this.#listening
    const host = hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname.includes(':') ? `[${hostname}]` : hostname
    return { port, url: `http://${host}:${port}`, hostname }
  }

  get port(): number {
    return this.address().port
  }

  get url(): string {
    return this.address().url
  }
}
