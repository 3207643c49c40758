import { CAPABILITIES, CAPABILITY_LABELS, type Capability } from '../capability.ts'
import { ConflictError } from '../errors/conflict-error.ts'
import { ModelNotFoundError } from '../errors/model-not-found-error.ts'
import type { ConcurrencyLimiter } from '../limits/concurrency-limiter.ts'
import { modelLimiter, type ModelLimits } from '../limits/model-limits.ts'
import { checkSupportedParameters, type SupportedParameters } from '../requests/optional-parameters.ts'
import type { OutputChannel } from '../channel/output-channel.ts'
import type { CapabilityRequests, Handler, Providers } from './handlers.ts'
import { MODEL_STATES, type ModelLifecycle, type ModelState, type ModelStatus } from './model-status.ts'
import { waitUntilReady, type ReadyWaitOptions } from './ready-wait.ts'

export interface ModelInfo {
  /** The name clients put in `model`. */
  id: string
  capabilities: Capability[]
  /** Who serves it (`owned_by` in /v1/models). */
  ownedBy: string
  /** Unix seconds when it was registered. */
  created: number
  /** Free-form facts for model details (adapter, file, context size...). */
  metadata: Record<string, unknown>
  /** The optional request fields it declares it honours (see `RegisterOptions.supports`). */
  supports?: SupportedParameters
  /** Its state (`ready` unless whoever registered it says otherwise). */
  status: ModelStatus
  /** Unix milliseconds when a request for it last started or ended. */
  lastUsedAt?: number
  /** Its requests in flight. */
  inFlight: number
}

interface Entry extends Omit<ModelInfo, 'inFlight'> {
  providers: Providers
  limiter?: ConcurrencyLimiter
  lifecycle?: ModelLifecycle
  running: Set<OutputChannel>
  changed: Set<() => void>
}

export interface RegisterOptions {
  ownedBy?: string
  metadata?: Record<string, unknown>
  /**
   * The model's own concurrency and queue (its engine's `parallel`), enforced in front of it besides the
   * server-wide limit. Registrations given the same object share one limiter (an alias of a loaded model).
   */
  limits?: ModelLimits
  /**
   * The optional request fields the model honours, per capability (see `OPTIONAL_PARAMETERS`); a request
   * setting another gets 400 `unsupported_parameter`. Without it, the assumed defaults.
   */
  supports?: SupportedParameters
  /** Its state at registration (default `ready`: a handler registered by a program serves at once). */
  status?: ModelStatus
}

/** What a model learns once it has loaded (see `ModelRegistry.update`). */
export interface ModelUpdate {
  metadata?: Record<string, unknown>
  limits?: ModelLimits
  supports?: SupportedParameters
}

/**
 * Models by name. A name may carry several capabilities (a llama model serves chat and embeddings),
 * but registering the same capability under a name twice is a conflict.
 */
export class ModelRegistry {
  readonly #entries = new Map<string, Entry>()
  readonly #limiters = new WeakMap<ModelLimits, ConcurrencyLimiter>()
  readonly #idle = new Set<() => void>()
  readonly #statusListeners = new Set<(name: string, status: ModelStatus) => void>()
  #explainMissing: ((model: string) => Error | undefined) | undefined

  /**
   * Gives names that no model is registered under, but that the application knows (a catalog model not
   * downloaded yet), their own error instead of the generic "not available" one.
   */
  setMissingModelExplainer(explain: ((model: string) => Error | undefined) | undefined): void {
    this.#explainMissing = explain
  }

  register(name: string, providers: Providers, options: RegisterOptions = {}): void {
    if (!name) throw new ConflictError('A model needs a non-empty name', { param: 'model', code: 'invalid_model_name' })
    const capabilities = CAPABILITIES.filter((capability) => providers[capability] !== undefined)
    if (capabilities.length === 0) throw new ConflictError(`Model '${name}' has no provider to register`, { param: 'model' })
    const existing = this.#entries.get(name)
    const taken = existing ? capabilities.filter((capability) => existing.providers[capability]) : []
    if (taken.length > 0) {
      throw new ConflictError(`Model '${name}' is already registered for ${taken.map((c) => CAPABILITY_LABELS[c]).join(', ')}`, {
        param: 'model',
        code: 'model_already_registered',
      })
    }
    if (existing) {
      // Only the capabilities given: an explicit `undefined` must not erase a handler already registered.
      for (const capability of capabilities) (existing.providers as Record<Capability, unknown>)[capability] = providers[capability]
      existing.capabilities = CAPABILITIES.filter((capability) => existing.providers[capability] !== undefined)
      Object.assign(existing.metadata, options.metadata)
      if (options.limits && !existing.limiter) existing.limiter = this.#limiterFor(options.limits)
      if (options.supports) existing.supports = { ...existing.supports, ...options.supports }
      if (options.status) this.setStatus(name, options.status)
      return
    }
    const limiter = options.limits ? this.#limiterFor(options.limits) : undefined
    this.#entries.set(name, {
      id: name,
      capabilities,
      ownedBy: options.ownedBy ?? 'cy',
      created: Math.floor(Date.now() / 1000),
      metadata: { ...options.metadata },
      providers: { ...providers },
      ...(limiter ? { limiter } : {}),
      ...(options.supports ? { supports: options.supports } : {}),
      status: { ...(options.status ?? { state: 'ready' }) },
      running: new Set(),
      changed: new Set(),
    })
  }

  /** What a model declares once loaded: its facts, its own slots, the optional fields it honours. */
  update(name: string, update: ModelUpdate): void {
    const entry = this.#entries.get(name)
    if (!entry) return
    if (update.metadata) Object.assign(entry.metadata, update.metadata)
    if (update.limits) entry.limiter = this.#limiterFor(update.limits)
    if (update.supports) entry.supports = update.supports
  }

  /** Hooks the owner of the model's life in: loading on demand, and hearing when it is busy or idle. */
  setLifecycle(name: string, lifecycle: ModelLifecycle | undefined): void {
    const entry = this.#entries.get(name)
    if (entry) entry.lifecycle = lifecycle
  }

  /** Sets the model's state; requests waiting for it look again. */
  setStatus(name: string, status: ModelStatus): void {
    const entry = this.#entries.get(name)
    if (!entry) return
    entry.status = { ...status }
    for (const wake of [...entry.changed]) wake()
    for (const listener of this.#statusListeners) listener(name, entry.status)
  }

  status(name: string): ModelStatus | undefined {
    const status = this.#entries.get(name)?.status
    return status && { ...status }
  }

  /** Hears every state change (a metrics gauge, a progress display); returns the unsubscribe function. */
  onStatus(listener: (name: string, status: ModelStatus) => void): () => void {
    this.#statusListeners.add(listener)
    return () => this.#statusListeners.delete(listener)
  }

  /** How many models are in each state. */
  countByState(): Record<ModelState, number> {
    const counts = Object.fromEntries(MODEL_STATES.map((state) => [state, 0])) as Record<ModelState, number>
    for (const entry of this.#entries.values()) counts[entry.status.state]++
    return counts
  }

  /**
   * Undefined when the model is ready (or unknown: resolving it says so); otherwise a promise that settles
   * once it is ready, or rejects with 503 (failed, not loaded, still loading at the deadline).
   */
  whenReady(name: string, options: ReadyWaitOptions = {}): Promise<void> | undefined {
    const entry = this.#entries.get(name)
    if (!entry || entry.status.state === 'ready') return undefined
    return waitUntilReady(entry, options)
  }

  /** Counts a request as in flight for `name` until its channel closes (idle unloading, draining, last use). */
  track(name: string, channel: OutputChannel): void {
    const entry = this.#entries.get(name)
    if (!entry) return
    entry.lastUsedAt = Date.now()
    entry.running.add(channel)
    if (entry.running.size === 1) entry.lifecycle?.busy?.(true)
    channel.onClose(() => {
      entry.running.delete(channel)
      entry.lastUsedAt = Date.now()
      if (entry.running.size > 0) return
      entry.lifecycle?.busy?.(false)
      // Only a drain waits for idle: counting every model's requests is for it alone.
      if (this.#idle.size > 0 && this.inFlight() === 0) for (const wake of [...this.#idle]) wake()
    })
  }

  /** Requests in flight, for one model or all. */
  inFlight(name?: string): number {
    if (name !== undefined) return this.#entries.get(name)?.running.size ?? 0
    let total = 0
    for (const entry of this.#entries.values()) total += entry.running.size
    return total
  }

  /** Resolves once no request is in flight (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.inFlight() === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const wake = () => {
        this.#idle.delete(wake)
        resolve()
      }
      this.#idle.add(wake)
    })
  }

  /** Ends every request in flight with `reason` (an error event on a stream); returns how many. */
  abortInFlight(reason: unknown): number {
    let count = 0
    for (const entry of this.#entries.values()) {
      for (const channel of [...entry.running]) {
        channel.abort(reason)
        count++
      }
    }
    return count
  }

  #limiterFor(limits: ModelLimits): ConcurrencyLimiter {
    let limiter = this.#limiters.get(limits)
    if (!limiter) this.#limiters.set(limits, (limiter = modelLimiter(limits)))
    return limiter
  }

  /** The model's own limiter, if it registered limits. */
  limiter(name: string): ConcurrencyLimiter | undefined {
    return this.#entries.get(name)?.limiter
  }

  unregister(name: string): boolean {
    const entry = this.#entries.get(name)
    if (!entry) return false
    this.#entries.delete(name)
    // Requests waiting for it get their answer now rather than at their deadline.
    entry.lifecycle = undefined
    entry.status = { state: 'unloaded', reason: 'it was removed' }
    for (const wake of [...entry.changed]) wake()
    return true
  }

  has(name: string, capability?: Capability): boolean {
    const entry = this.#entries.get(name)
    return entry !== undefined && (capability === undefined || entry.providers[capability] !== undefined)
  }

  /** Names of every model, or of those with one capability, in registration order. */
  list(capability?: Capability): string[] {
    const names: string[] = []
    for (const entry of this.#entries.values()) if (!capability || entry.providers[capability]) names.push(entry.id)
    return names
  }

  info(name: string): ModelInfo | undefined {
    const entry = this.#entries.get(name)
    if (!entry) return undefined
    const { providers: _providers, limiter: _limiter, lifecycle: _lifecycle, running, changed: _changed, ...info } = entry
    return { ...info, capabilities: [...info.capabilities], metadata: { ...info.metadata }, status: { ...info.status }, inFlight: running.size }
  }

  infos(): ModelInfo[] {
    return this.list().map((name) => this.info(name)!)
  }

  /** Throws 400 `unsupported_parameter` when the request sets an optional field the model does not declare. */
  checkParameters(capability: Capability, request: { model: string }): void {
    checkSupportedParameters(capability, request.model, request, this.#entries.get(request.model)?.supports?.[capability])
  }

  /** The handler for `model` and `capability`, or the explainer's error for a known missing name, or the seed's "not available" error. */
  resolve<K extends Capability>(capability: K, model: string): Handler<CapabilityRequests[K]> {
    const handler = this.#entries.get(model)?.providers[capability]
    if (handler) return handler as Handler<CapabilityRequests[K]>
    const explained = this.#entries.has(model) ? undefined : this.#explainMissing?.(model)
    throw explained ?? new ModelNotFoundError(model, this.list(capability))
  }
}
