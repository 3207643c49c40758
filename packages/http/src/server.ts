import {
  Dispatcher,
  ModelRegistry,
  type Providers,
  type RegisterOptions,
} from '@cy/core'
import { Gateway, type GatewayOptions } from '@cy/gateway'
import { Elysia } from 'elysia'
import type { ApiContext } from './api-context.ts'
import { ApiKeyGuard } from './guards/api-key-guard.ts'
import { ImageStore } from './images/image-store.ts'
import { ResponseStore } from './responses/response-store.ts'
import { ModelRegistrar } from './model-registrar.ts'
import { openaiPlugin } from './openai-plugin.ts'
import { nativeJsonRoute } from './routes/json-route.ts'
import { JSON_ROUTES } from './routes/json-routes.ts'

export interface ServerOptions {
  /** Port to listen on (default 8080; 0 picks a free one). */
  port?: number
  /** Address to bind (default 0.0.0.0). */
  hostname?: string
  /** Accepted API key(s); none means the API is open. */
  apiKey?: string | string[]
  /** Requests that run at once (default: no limit). */
  maxConcurrency?: number
  /** Requests that may wait for a slot before new ones get 429 (default 1024). */
  maxQueue?: number
  /** Per-request time limit in ms, queueing included (default 600000; 0 for none). */
  timeoutMs?: number
  /** Largest request body in bytes (default 32 MiB). */
  maxBodyBytes?: number
  /** Allow browsers from any origin (default true), or only from the listed ones. */
  cors?: boolean | string[]
  /** Serve `/openapi.json` and `/docs` (default true). */
  docs?: boolean
  /** Base URL used in links this server hands out (image URLs). */
  publicUrl?: string
  /** How long generated image links stay valid, in ms (default one hour). */
  imageUrlTtlMs?: number
  /** SQLite file for stored Responses API responses (default `:memory:`: gone with the process). */
  responsesDb?: string
  /** The gateway: tool call validation, session tracking and its execution gate, the sanitizer. */
  gateway?: GatewayOptions
}

const DEFAULT_MAX_BODY = 32 * 1024 * 1024

/** The seed's library API: register models by name, then start an OpenAI-compatible server. */
export class Server extends ModelRegistrar {
  readonly registry = new ModelRegistry()
  readonly dispatcher: Dispatcher
  readonly app: Elysia<any, any, any, any, any, any, any>
  readonly #options: ServerOptions
  readonly #apiKeys = new ApiKeyGuard()
  readonly #ctx: ApiContext
  #listening: { port: number; hostname: string; server: ReturnType<typeof Bun.serve> } | undefined

  constructor(options: ServerOptions | number = {}) {
    super()
    this.#options = typeof options === 'number' ? { port: options } : { ...options }
    const opts = this.#options
    this.dispatcher = new Dispatcher(this.registry, {
      maxConcurrency: opts.maxConcurrency ?? Infinity,
      maxQueue: opts.maxQueue ?? 1024,
      timeoutMs: opts.timeoutMs ?? 600_000,
    })
    this.#apiKeys.set(opts.apiKey)
    const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY
    const ctx: ApiContext = {
      registry: this.registry,
      dispatcher: this.dispatcher,
      apiKeys: this.#apiKeys,
      images: new ImageStore(opts.imageUrlTtlMs),
      maxBodyBytes,
      cors: opts.cors ?? true,
      startedAt: Date.now(),
      healthDetails: new Map(),
      gateway: new Gateway(opts.gateway),
      responses: new ResponseStore(opts.responsesDb),
      ...(opts.publicUrl ? { publicUrl: opts.publicUrl.replace(/\/$/, '') } : {}),
    }
    this.#ctx = ctx
    this.app = new Elysia({ normalize: false }).use(openaiPlugin(ctx, { docs: opts.docs !== false }))
  }

  /** Registers several capabilities under one name (what adapters do). */
  override registerModel(name: string, providers: Providers, options?: RegisterOptions): this {
    this.registry.register(name, providers, options)
    return this
  }

  unregisterModel(name: string): boolean {
    return this.registry.unregister(name)
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

  /** Per-request time limit in milliseconds (0 for none). */
  setTimeout(ms: number): this {
    this.dispatcher.setTimeoutMs(ms)
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

  /** Adds a section to `/health`, computed on each call (`cluster` for a master's workers). */
  setHealthDetail(name: string, detail: (() => unknown) | null): this {
    if (detail) this.#ctx.healthDetails.set(name, detail)
    else this.#ctx.healthDetails.delete(name)
    return this
  }

  /** Starts listening (on `port`, else the one from the options); resolves with the bound port and URL. */
  async start(port?: number): Promise<{ port: number; url: string }> {
    if (this.#listening) return this.address()
    const hostname = this.#options.hostname ?? '0.0.0.0'
    // JSON routes are served as plain Bun routes (same checks, schemas and errors as the Elysia routes,
    // which still serve `app.handle` and the docs); everything else goes through Elysia.
    const routes: Record<string, { POST: (request: Request) => Promise<Response> }> = {}
    for (const route of JSON_ROUTES) routes[route.path] = { POST: nativeJsonRoute(this.#ctx, route) }
    const server = Bun.serve({
      port: port ?? this.#options.port ?? 8080,
      hostname,
      // No idle cut-off: a long non-streaming generation sends nothing until it is done.
      idleTimeout: 0,
      // No limit of Bun's own: it answers an empty 413 before any code of ours runs. The routes enforce
      // maxBodyBytes instead (declared and chunked bodies), with an OpenAI-shaped 413.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      routes,
      fetch: this.app.fetch,
    })
    if (server.port === undefined) throw new Error('The server did not start')
    this.#listening = { port: server.port, hostname, server }
    return this.address()
  }

  /** Stops listening; requests in flight are closed. */
  async stop(): Promise<void> {
    if (!this.#listening) return
    const { server } = this.#listening
    this.#listening = undefined
    await server.stop(true)
  }

  get isRunning(): boolean {
    return this.#listening !== undefined
  }

  /** The bound port and a URL to reach it (loopback when bound to all interfaces). */
  address(): { port: number; url: string } {
    if (!this.#listening) throw new Error('The server is not running')
    const { port, hostname } = this.#listening
    const host = hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname.includes(':') ? `[${hostname}]` : hostname
    return { port, url: `http://${host}:${port}` }
  }

  get port(): number {
    return this.address().port
  }

  get url(): string {
    return this.address().url
  }
}
