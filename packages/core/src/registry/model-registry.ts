import { CAPABILITIES, CAPABILITY_LABELS, type Capability } from '../capability.ts'
import { ConflictError } from '../errors/conflict-error.ts'
import { ModelNotFoundError } from '../errors/model-not-found-error.ts'
import type { ConcurrencyLimiter } from '../limits/concurrency-limiter.ts'
import { modelLimiter, type ModelLimits } from '../limits/model-limits.ts'
import { checkSupportedParameters, type SupportedParameters } from '../requests/optional-parameters.ts'
import type { CapabilityRequests, Handler, Providers } from './handlers.ts'

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
}

interface Entry extends ModelInfo {
  providers: Providers
  limiter?: ConcurrencyLimiter
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
}

/**
 * Models by name. A name may carry several capabilities (a llama model serves chat and embeddings),
 * but registering the same capability under a name twice is a conflict.
 */
export class ModelRegistry {
  readonly #entries = new Map<string, Entry>()
  readonly #limiters = new WeakMap<ModelLimits, ConcurrencyLimiter>()

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
    })
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
    return this.#entries.delete(name)
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
    const { providers: _providers, limiter: _limiter, ...info } = entry
    return { ...info, capabilities: [...info.capabilities], metadata: { ...info.metadata } }
  }

  infos(): ModelInfo[] {
    return this.list().map((name) => this.info(name)!)
  }

  /** Throws 400 `unsupported_parameter` when the request sets an optional field the model does not declare. */
  checkParameters(capability: Capability, request: { model: string }): void {
    checkSupportedParameters(capability, request.model, request, this.#entries.get(request.model)?.supports?.[capability])
  }

  /** The handler for `model` and `capability`, or the seed's "not available" error. */
  resolve<K extends Capability>(capability: K, model: string): Handler<CapabilityRequests[K]> {
    const handler = this.#entries.get(model)?.providers[capability]
    if (handler) return handler as Handler<CapabilityRequests[K]>
    throw new ModelNotFoundError(model, this.list(capability))
  }
}
