import {
  BadRequestError,
  ConcurrencyLimiter,
  ConflictError,
  ServiceUnavailableError,
  type Capability,
  type EngineStatus,
  type LoadedModel,
  type LoadProgress,
  type ModelStatus,
  type Providers,
} from '@cy/core'
import type { ModelControl, ModelRegistrar, Server } from '@cy/http'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { DiscoveredAdapter } from './adapter-discovery.ts'
import type { ManagedModelConfig } from './managed-config.ts'
import { NoRoomError } from './no-room-error.ts'

export interface ModelManagerOptions {
  /** The local server: its registry keeps the states, its gateway the tool settings. */
  server: Server
  /** Where models are registered (the cluster in cluster mode, so a worker's models reach its master). */
  registrar: ModelRegistrar
  adapters: DiscoveredAdapter[]
  log: (line: string) => void
  /** Models loaded at once at most (least recently used idle ones are unloaded to make room). */
  maxLoadedModels?: number
  /** Bytes of model files loaded at once at most (each model counts its file's size). */
  maxMemoryBytes?: number
  /** Loads that run at once (default 2). */
  parallelLoads?: number
  /**
   * The training adapters folder: a model of an adapter that trains gets that adapter's serving options for
   * `<folder>/<model name>` (the llama adapter's `loraDir`) unless its config sets them, so the adapters
   * its training jobs produce are served at once.
   */
  trainingAdaptersDir?: string
}

/** One model the manager owns, under its name and its aliases. */
interface Managed {
  config: ManagedModelConfig
  adapter: DiscoveredAdapter | undefined
  names: string[]
  sizeBytes: number
  loaded?: LoadedModel
  loading?: Promise<void>
  unloading?: Promise<void>
  /** Unloaded through the API: it stays so until loaded again, unless it is lazy. */
  heldUnloaded: boolean
  idleTimer?: ReturnType<typeof setTimeout>
  unsubscribe?: () => void
}

const DEFAULT_PARALLEL_LOADS = 2

/**
 * Owns the models' life in the server app: registers each under its name (with handlers that forward to the
 * engine once loaded), loads the eager ones in the background and the lazy ones on their first request,
 * unloads idle ones after their `keepAlive`, keeps the loaded ones within `maxLoadedModels` and
 * `maxMemoryBytes` by unloading the least recently used idle ones, and keeps each one's state in the
 * registry, which the routes show and the dispatcher waits on.
 */
export class ModelManager implements ModelControl {
  readonly #options: ModelManagerOptions
  readonly #models: Managed[] = []
  readonly #byName = new Map<string, Managed>()
  readonly #loadSlots: ConcurrencyLimiter

  constructor(options: ModelManagerOptions) {
    this.#options = options
    this.#loadSlots = new ConcurrencyLimiter({ maxConcurrency: options.parallelLoads ?? DEFAULT_PARALLEL_LOADS, maxQueue: Infinity })
  }

  get #registry() {
    return this.#options.server.registry
  }

  /** Registers a model, unloaded; `start` loads the eager ones. */
  async add(config: ManagedModelConfig): Promise<void> {
    const adapter = this.#options.adapters.find((entry) => entry.adapter.manifest.name === config.adapter)
    const serving = this.#options.trainingAdaptersDir && adapter?.adapter.training?.servingOptions?.(config.name, join(this.#options.trainingAdaptersDir, config.name))
    if (serving) config = { ...config, options: { ...serving, ...config.options } }
    const sizeBytes = config.path ? await stat(config.path).then((info) => (info.isFile() ? info.size : 0), () => 0) : 0
    const model: Managed = { config, adapter, names: [config.name], sizeBytes, heldUnloaded: false }
    const capabilities = adapter?.adapter.manifest.capabilities ?? ['chat']
    const toolCalls = adapter?.adapter.manifest.toolCalls
    this.#options.registrar.registerModel(config.name, this.#forwarders(model, capabilities), {
      // Known before the load, so a worker's master bridges tools for a lazy model too.
      ...(toolCalls ? { toolCalls } : {}),
      ownedBy: config.adapter,
      metadata: { adapter: config.adapter, ...(adapter ? { engine: adapter.adapter.manifest.engine } : {}), path: config.path, sizeBytes },
      status: adapter
        ? { state: 'unloaded' }
        : { state: 'failed', reason: `no installed adapter is named '${config.adapter}' (installed: ${this.#options.adapters.map((entry) => entry.adapter.manifest.name).join(', ') || 'none'})` },
    })
    this.#models.push(model)
    this.#byName.set(config.name, model)
    this.#hook(model, config.name)
  }

  /**
   * Another name for a model (`gpt-4o-mini: qwen`); false when the target is unknown. An unlisted alias (a
   * catalog model's Hugging Face id) answers requests but `/v1/models` shows it only in the model's `cy.aliases`.
   */
  alias(alias: string, target: string, options: { listed?: boolean } = {}): boolean {
    const model = this.#byName.get(target)
    if (!model) return false
    const info = this.#registry.info(target)!
    const tools = this.#options.server.modelToolSettings(target)
    const { aliases: _aliases, ...facts } = info.metadata
    const metadata = { ...facts, aliasOf: target, ...(options.listed === false ? { unlisted: true } : {}) }
    this.#options.registrar.registerModel(alias, this.#forwarders(model, info.capabilities), { ...tools, ownedBy: info.ownedBy, metadata, status: info.status })
    this.#registry.update(target, { metadata: { aliases: [...model.names.slice(1), alias] } })
    model.names.push(alias)
    this.#byName.set(alias, model)
    this.#hook(model, alias)
    if (model.loaded) this.#declare(model, model.loaded)
    return true
  }

  /** Forgets a model that holds no engine (its files were deleted): every name of it is unregistered. */
  remove(name: string): void {
    const model = this.#find(name)
    if (model.loaded || model.loading || model.unloading) throw new ConflictError(`Model '${name}' is loaded: unload it first`, { param: 'model', code: 'model_loaded' })
    clearTimeout(model.idleTimer)
    for (const alias of model.names) {
      this.#options.registrar.unregisterModel(alias)
      this.#byName.delete(alias)
    }
    this.#models.splice(this.#models.indexOf(model), 1)
  }

  /** Starts the eager models' loads; resolves when they have all ended, loaded or not. */
  start(): Promise<void> {
    return Promise.all(this.#models.filter((model) => model.adapter && model.config.load !== 'lazy').map((model) => this.#load(model))).then(() => {})
  }

  /** Every model with its state, in registration order (not aliases). */
  models(): Array<{ config: ManagedModelConfig; status: ModelStatus; capabilities: Capability[] }> {
    return this.#models.map((model) => {
      const info = this.#registry.info(model.config.name)!
      return { config: model.config, status: info.status, capabilities: info.capabilities }
    })
  }

  /** The config of the model a name (or alias) means. */
  config(name: string): ManagedModelConfig | undefined {
    return this.#byName.get(name)?.config
  }

  required(): string[] {
    return this.#models.filter((model) => model.config.load !== 'lazy').map((model) => model.config.name)
  }

  async load(name: string): Promise<void> {
    const model = this.#find(name)
    model.heldUnloaded = false
    this.#hookAll(model)
    await model.unloading
    // An engine that gave up after a crash loop is still loaded, but failed: free it, then load it anew.
    if (model.loaded && this.#registry.status(model.config.name)?.state === 'failed') await this.#unload(model)
    await this.#load(model)
    const status = this.#registry.status(model.config.name)!
    if (status.state !== 'ready') {
      throw new ServiceUnavailableError(`Model '${name}' did not load: ${status.reason ?? status.state}`, { code: status.state === 'failed' ? 'model_failed' : 'model_not_loaded', retryAfterSeconds: 5 })
    }
  }

  async unload(name: string): Promise<void> {
    const model = this.#find(name)
    model.heldUnloaded = true
    this.#hookAll(model)
    await model.loading
    await this.#unload(model)
  }

  /** Unloads every model (shutdown). */
  async dispose(): Promise<void> {
    for (const model of this.#models) model.heldUnloaded = true
    await Promise.all(this.#models.map(async (model) => {
      await model.loading
      await this.#unload(model)
    }))
  }

  #find(name: string): Managed {
    const model = this.#byName.get(name)
    if (!model) throw new BadRequestError(`Model '${name}' is not one the server loads (a cluster worker's, or the program's)`, { param: 'model', code: 'model_not_managed' })
    return model
  }

  /** Handlers that forward to the loaded engine's; the dispatcher calls them only once the model is ready. */
  #forwarders(model: Managed, capabilities: Capability[]): Providers {
    const providers: Record<string, unknown> = {}
    for (const capability of capabilities) {
      providers[capability] = (request: unknown, out: unknown) => {
        const handler = model.loaded?.providers[capability] as ((request: unknown, out: unknown) => void | Promise<void>) | undefined
        if (handler) return handler(request, out)
        throw new ServiceUnavailableError(model.loaded ? `Model '${model.config.name}' does not serve ${capability}` : `Model '${model.config.name}' was unloaded`, { code: 'model_not_loaded' })
      }
    }
    return providers as Providers
  }

  #hookAll(model: Managed): void {
    for (const name of model.names) this.#hook(model, name)
  }

  /** A lazy model, and one unloaded for being idle or for room, loads again on a request; one unloaded through the API does not. */
  #hook(model: Managed, name: string): void {
    const onDemand = model.adapter && (model.config.load === 'lazy' || !model.heldUnloaded)
    this.#registry.setLifecycle(name, {
      ...(onDemand ? { autoload: () => void this.#load(model) } : {}),
      busy: () => this.#idleCheck(model),
    })
  }

  #setStatus(model: Managed, status: ModelStatus): void {
    for (const name of model.names) this.#registry.setStatus(name, status)
  }

  /** What the engine declared once loaded, for every name of the model. */
  #declare(model: Managed, loaded: LoadedModel): void {
    for (const name of model.names) {
      this.#registry.update(name, {
        ...(loaded.metadata ? { metadata: loaded.metadata } : {}),
        ...(loaded.limits ? { limits: loaded.limits } : {}),
        ...(loaded.supports ? { supports: loaded.supports } : {}),
      })
      this.#options.server.setModelToolSettings(name, loaded.toolCalls ? { toolCalls: loaded.toolCalls } : {})
    }
  }

  /** Loads the model unless it is loaded or loading; sets `loading` before it returns (the registry's autoload relies on it). */
  #load(model: Managed): Promise<void> {
    if (model.loading) return model.loading
    if (model.loaded && !model.unloading) return Promise.resolve()
    this.#setStatus(model, { state: 'loading', progress: { stage: 'queued' } })
    model.loading = this.#loadNow(model).finally(() => (model.loading = undefined))
    return model.loading
  }

  async #loadNow(model: Managed): Promise<void> {
    const { config, adapter } = model
    await model.unloading
    const release = await this.#loadSlots.acquire()
    const started = Date.now()
    try {
      if (!adapter) throw new Error(`no installed adapter is named '${config.adapter}'`)
      await this.#makeRoom(model)
      this.#setStatus(model, { state: 'loading', progress: { stage: 'loading' } })
      const { load: _load, keepAliveMs: _keepAlive, ...rest } = config
      // A long load (an engine build) reports its percent into the model's state, and so to the progress bar.
      const adapterConfig = { ...rest, onProgress: (progress: LoadProgress) => this.#setStatus(model, { state: 'loading', progress }) }
      const loaded = await adapter.adapter.load(adapterConfig)
      model.loaded = loaded
      this.#declare(model, loaded)
      model.unsubscribe = loaded.onStatus?.((status) => this.#engineStatus(model, status))
      this.#setStatus(model, { state: 'ready', loadedAt: Date.now() })
      this.#options.log(`model '${config.name}' ready (${Date.now() - started} ms)`)
      this.#idleCheck(model)
    } catch (error) {
      const reason = (error as Error).message
      this.#setStatus(model, error instanceof NoRoomError ? { state: 'unloaded', reason } : { state: 'failed', reason })
      this.#options.log(`model '${config.name}' was not loaded: ${reason}`)
    } finally {
      release()
    }
  }

  /** The engine host's own reports: a crash and restart, back to serving, or given up. */
  #engineStatus(model: Managed, status: EngineStatus): void {
    if (!model.loaded || model.unloading) return
    if (status.state === 'ready') this.#setStatus(model, { state: 'ready', loadedAt: this.#registry.status(model.config.name)?.loadedAt ?? Date.now() })
    else if (status.state === 'restarting') {
      this.#options.server.recordEngineRestart(model.config.name)
      this.#setStatus(model, { state: 'loading', progress: { stage: `restarting (attempt ${status.attempt}): ${status.reason}` } })
    }
    else this.#setStatus(model, { state: 'failed', reason: status.reason })
  }

  /** Loaded, loading or unloading: what holds memory, or soon will. */
  #resident(except: Managed): Managed[] {
    return this.#models.filter((other) => other !== except && (other.loaded || other.loading || other.unloading))
  }

  #busy(model: Managed): boolean {
    return model.names.some((name) => this.#registry.inFlight(name) > 0)
  }

  #lastUsed(model: Managed): number {
    const uses = model.names.map((name) => this.#registry.info(name)?.lastUsedAt ?? 0)
    return Math.max(this.#registry.status(model.config.name)?.loadedAt ?? 0, ...uses)
  }

  /** Unloads the least recently used idle models until `model` fits the budget; NoRoomError when the rest are busy. */
  async #makeRoom(model: Managed): Promise<void> {
    const { maxLoadedModels = Infinity, maxMemoryBytes = Infinity } = this.#options
    if (model.sizeBytes > maxMemoryBytes) throw new NoRoomError(`its file (${model.sizeBytes} bytes) is larger than --max-memory (${maxMemoryBytes} bytes)`)
    for (;;) {
      const resident = this.#resident(model)
      const bytes = resident.reduce((sum, other) => sum + other.sizeBytes, 0)
      if (resident.length + 1 <= maxLoadedModels && bytes + model.sizeBytes <= maxMemoryBytes) return
      const idle = resident.filter((other) => other.loaded && !other.loading && !other.unloading && !this.#busy(other))
      if (idle.length === 0) {
        // One being unloaded already frees room: wait for it rather than refuse.
        const leaving = resident.find((other) => other.unloading)
        if (leaving) {
          await leaving.unloading
          continue
        }
        throw new NoRoomError(`no room within the budget (${resident.length} models loaded or loading, none idle)`)
      }
      const victim = idle.reduce((oldest, other) => (this.#lastUsed(other) < this.#lastUsed(oldest) ? other : oldest))
      this.#options.log(`unloading '${victim.config.name}', the least recently used, to make room for '${model.config.name}'`)
      await this.#unload(victim)
    }
  }

  /** Arms the idle unload when the model is loaded, idle and has a keepAlive; disarms it when busy. */
  #idleCheck(model: Managed): void {
    clearTimeout(model.idleTimer)
    model.idleTimer = undefined
    const keepAliveMs = model.config.keepAliveMs ?? -1
    if (keepAliveMs < 0 || !model.loaded || model.unloading || this.#busy(model)) return
    model.idleTimer = setTimeout(() => {
      this.#options.log(`unloading '${model.config.name}': idle for ${keepAliveMs} ms`)
      void this.#unload(model)
    }, Math.min(keepAliveMs, 2 ** 31 - 1))
    // An idle timer alone must not keep the process alive.
    model.idleTimer.unref?.()
  }

  #unload(model: Managed): Promise<void> {
    if (model.unloading) return model.unloading
    const loaded = model.loaded
    if (!loaded) return Promise.resolve()
    clearTimeout(model.idleTimer)
    this.#setStatus(model, { state: 'unloading' })
    model.unloading = (async () => {
      model.unsubscribe?.()
      try {
        // The adapter finishes or fails the requests in flight before it lets go of the engine.
        await loaded.dispose()
      } catch (error) {
        this.#options.log(`model '${model.config.name}' did not unload cleanly: ${(error as Error).message}`)
      }
      model.loaded = undefined
      this.#setStatus(model, { state: 'unloaded' })
    })().finally(() => (model.unloading = undefined))
    return model.unloading
  }
}
