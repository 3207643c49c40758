import { CAPABILITIES, CAPABILITY_LABELS, type Capability } from '../capability.ts'
import { ConflictError } from '../errors/conflict-error.ts'
import { ModelNotFoundError } from '../errors/model-not-found-error.ts'
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
  toolCalls: ToolCallMode
  toolValidation?: ToolValidationMode
}

interface Entry extends ModelInfo {
  providers: Providers
}

export interface RegisterOptions {
  ownedBy?: string
  metadata?: Record<string, unknown>
  /**
   * How the model takes `tools`: `native` (default) hands them to the handler, which emits tool-call
   * chunks; `bridge` describes them in the prompt and parses the model's XML tool calls from its text.
   */
  toolCalls?: ToolCallMode
  /** How tool calls are checked against the tools' schemas (default: the server's setting). */
  toolValidation?: ToolValidationMode
}

export type ToolCallMode = 'native' | 'bridge'
export type ToolValidationMode = 'none' | 'relaxed' | 'strict'

/**
 * Models by name. A name may carry several capabilities (a llama model serves chat and embeddings),
 * but registering the same capability under a name twice is a conflict.
 */
export class ModelRegistry {
  readonly #entries = new Map<string, Entry>()

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
      return
    }
    this.#entries.set(name, {
      id: name,
      capabilities,
      ownedBy: options.ownedBy ?? 'cy',
      created: Math.floor(Date.now() / 1000),
      metadata: { ...options.metadata },
      toolCalls: options.toolCalls ?? 'native',
      ...(options.toolValidation ? { toolValidation: options.toolValidation } : {}),
      providers: { ...providers },
    })
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
    const { providers: _providers, ...info } = entry
    return { ...info, capabilities: [...info.capabilities], metadata: { ...info.metadata } }
  }

  /** How the model takes tools, without copying its info (asked on every chat request). */
  toolSettings(name: string): { toolCalls: ToolCallMode; toolValidation?: ToolValidationMode } | undefined {
    return this.#entries.get(name)
  }

  infos(): ModelInfo[] {
    return this.list().map((name) => this.info(name)!)
  }

  /** The handler for `model` and `capability`, or the seed's "not available" error. */
  resolve<K extends Capability>(capability: K, model: string): Handler<CapabilityRequests[K]> {
    const handler = this.#entries.get(model)?.providers[capability]
    if (handler) return handler as Handler<CapabilityRequests[K]>
    throw new ModelNotFoundError(model, this.list(capability))
  }
}
