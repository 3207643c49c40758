import { CancelledError, errorToWire, toApiError, type CapabilityRequests, type ModelRegistry, type ModelStatus } from '@cy/core'
import { parseError, type Server } from '@cy/http'
import { serveInternal } from './internal-server.ts'
import { CLUSTER_MAGIC, PATHS } from './protocol.ts'
import type { RunLine } from './remote-providers.ts'
import { RequestVerifier, signRequest } from './request-signature.ts'
import { checkRunRequest } from './run-request-check.ts'
import { decodeWire, encodeChunks, encodeWire } from './wire-codec.ts'

export interface WorkerOptions {
  workerId: string
  secret: string | undefined
  listenHost: string
  listenPort: number
  masterUrl: string
  heartbeatIntervalMs: number
  /** Largest forwarded request, in bytes, as the master sends it (bytes in it travel as base64). */
  maxBodyBytes: number
  /** How far a call's signing time may be from this clock (default 30 s). */
  signatureWindowMs?: number
  log: (line: string) => void
}

/**
 * The worker's side: an internal server that runs requests on its models and streams their chunks back,
 * and a client that introduces itself to the master, registers each model, heart-beats, and comes back
 * by itself (with back-off) when the master restarts.
 */
export class WorkerNode {
  readonly #verifier: RequestVerifier
  #internal: ReturnType<typeof Bun.serve> | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #stopped = false
  #connected = false
  #backoff = 100
  /** Models the master accepted: their state changes are reported to it. */
  readonly #registered = new Set<string>()
  /** Reports go one after another, so the master sees the states in their order. */
  #reports: Promise<unknown> = Promise.resolve()
  #unsubscribe: (() => void) | undefined

  constructor(
    readonly server: Server,
    readonly options: WorkerOptions,
  ) {
    this.#verifier = new RequestVerifier(options.secret, options.signatureWindowMs === undefined ? {} : { windowMs: options.signatureWindowMs })
  }

  get registry(): ModelRegistry {
    return this.server.registry
  }

  get connected(): boolean {
    return this.#connected
  }

  get port(): number | undefined {
    return this.#internal?.port
  }

  async start(): Promise<void> {
    this.#internal = serveInternal({
      hostname: this.options.listenHost,
      port: this.options.listenPort,
      verifier: this.#verifier,
      maxBodyBytes: this.options.maxBodyBytes,
      routes: { [PATHS.run]: (body, request) => this.#run(body, request), [PATHS.load]: (body) => this.#load(body) },
      // A model may stay silent for long (a long prompt): the master's own limits end such a call.
      idleTimeout: 0,
    })
    this.#unsubscribe = this.registry.onStatus((model, status) => {
      if (this.#connected && this.#registered.has(model)) this.#report(model, status)
    })
    try {
      await this.#connect()
    } catch (error) {
      this.#unsubscribe()
      await this.#internal.stop(true)
      throw error
    }
  }

  #report(model: string, status: ModelStatus): void {
    this.#reports = this.#reports.then(() => this.#post(PATHS.status, { workerId: this.options.workerId, model, status })).catch(() => {})
  }

  /** The master holds a request for a model unloaded here: start its load (the registry's autoload) and say where it stands. */
  #load(bytes: Uint8Array): Response {
    let model: unknown
    try {
      model = (JSON.parse(new TextDecoder().decode(bytes)) as { model?: unknown }).model
    } catch (error) {
      throw parseError(error)
    }
    const name = String(model)
    // The wait starts the load synchronously; its outcome reaches the master as status reports.
    void this.registry.whenReady(name, { timeoutMs: 1 })?.catch(() => {})
    return Response.json({ status: this.registry.status(name) ?? { state: 'unloaded', reason: 'not on this worker' } })
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#unsubscribe?.()
    clearTimeout(this.#timer)
    // Withdraw the models at once rather than waiting for the master's timeout.
    await Promise.all(this.registry.list().map((model) => this.withdraw(model)))
    await this.#internal?.stop(true)
  }

  /** Registers one model at the master; refused (409) when the name is taken there. */
  async register(model: string): Promise<void> {
    const info = this.registry.info(model)
    if (!info) return
    const tools = this.server.modelToolSettings(model)
    const status = info.status
    const response = await this.#post(PATHS.register, {
      workerId: this.options.workerId,
      model,
      capabilities: info.capabilities,
      toolCalls: tools.toolCalls ?? 'native',
      ...(tools.toolValidation ? { toolValidation: tools.toolValidation } : {}),
      ...(info.supports ? { supports: info.supports } : {}),
      status,
    })
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } }
      throw Object.assign(new Error(body.error?.message ?? `The master refused model '${model}' (${response.status})`), { status: response.status })
    }
    this.#registered.add(model)
    // A change while the registration travelled was not reported: report the state now.
    const now = this.registry.status(model)
    if (now && JSON.stringify(now) !== JSON.stringify(status)) this.#report(model, now)
  }

  async withdraw(model: string): Promise<void> {
    this.#registered.delete(model)
    await this.#post(PATHS.unregister, { workerId: this.options.workerId, model }).catch(() => {})
  }

  #post(path: string, body: unknown): Promise<Response> {
    const text = JSON.stringify(body)
    return fetch(`${this.options.masterUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(this.options.secret, 'POST', path, text) },
      body: text,
    })
  }

  async #connect(): Promise<void> {
    const response = await this.#post(PATHS.handshake, {
      magic: CLUSTER_MAGIC,
      workerId: this.options.workerId,
      host: this.options.listenHost,
      port: this.#internal!.port,
    })
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } }
      throw Object.assign(new Error(`The master refused this worker: ${body.error?.message ?? response.status}`), { status: response.status })
    }
    this.#registered.clear()
    for (const model of this.registry.list()) {
      await this.register(model).catch((error: Error) => this.options.log(`model '${model}' not registered: ${error.message}`))
    }
    this.#connected = true
    this.#backoff = 100
    this.#schedule(this.options.heartbeatIntervalMs)
  }

  #schedule(delay: number): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => void this.#beat(), delay)
  }

  async #beat(): Promise<void> {
    try {
      const response = await this.#post(PATHS.heartbeat, { workerId: this.options.workerId })
      if (response.ok) return this.#schedule(this.options.heartbeatIntervalMs)
      // The master no longer knows us (it restarted, or timed us out): introduce ourselves again.
      await this.#connect()
    } catch {
      this.#connected = false
      this.options.log(`master unreachable; trying again in ${this.#backoff} ms`)
      this.#schedule(this.#backoff)
      this.#backoff = Math.min(this.#backoff * 2, 5000)
      return
    }
  }

  /** Runs a forwarded request (already signature-checked) once it passes the request schemas. */
  async #run(bytes: Uint8Array, request: Request): Promise<Response> {
    let decoded: unknown
    try {
      decoded = decodeWire(new TextDecoder().decode(bytes))
    } catch (error) {
      throw parseError(error)
    }
    const { capability, request: body, priority } = checkRunRequest(decoded)
    const line = (message: RunLine) => `${encodeWire(message)}\n`
    let channel
    try {
      channel = await this.server.dispatcher.dispatch(capability, body as CapabilityRequests[typeof capability], { signal: request.signal, ...(priority ? { priority } : {}) })
    } catch (error) {
      return new Response(line({ error: errorToWire(toApiError(error)) }), { headers: { 'content-type': 'application/x-ndjson' } })
    }
    const open = channel
    const stream = new ReadableStream<string>({
      async pull(controller) {
        try {
          const chunks = await open.take()
          if (chunks === null) {
            controller.enqueue(line({ end: true }))
            controller.close()
            return
          }
          // One line per batch the model produced: the master parses once per batch, not per token.
          controller.enqueue(`${encodeChunks({ chunks })}\n`)
        } catch (error) {
          controller.enqueue(line({ error: errorToWire(toApiError(error)) }))
          controller.close()
        }
      },
      cancel() {
        open.abort(new CancelledError('The master closed the request'))
      },
    })
    return new Response(stream, { headers: { 'content-type': 'application/x-ndjson' } })
  }
}
