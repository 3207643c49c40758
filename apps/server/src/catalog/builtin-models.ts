import { ConflictError, ModelNotDownloadedError, ProviderError, type ModelRegistry } from '@cy/core'
import type { BuiltinModelBody, BuiltinModelControl } from '@cy/http'
import { DiskSpaceError } from '@cy/hub'
import type { ModelManager } from '../model-manager.ts'
import type { CatalogDownloads } from './catalog-downloads.ts'
import type { Catalog, CatalogEntry } from './catalog-schema.ts'
import { entryFiles, hfAlias } from './load-catalog.ts'
import { forgetPulledModel } from './pulled-models.ts'

export interface BuiltinModelsOptions {
  catalog: Catalog
  /** Ad-hoc pulls recorded earlier (`pull org/repo:Q4_K_M`), listed and served like catalog entries. */
  pulled?: CatalogEntry[]
  downloads: CatalogDownloads
  models: ModelManager
  registry: ModelRegistry
  log: (line: string) => void
  /** Where ad-hoc pulls are recorded (forgotten again when deleted). */
  pulledFile?: string
}

/** Registry states in which the engine holds the model (or is about to). */
const RESIDENT = new Set(['loading', 'ready', 'unloading'])

/**
 * The catalog as the server app serves it: each downloaded entry becomes a model of the ModelManager under
 * its short id (its Hugging Face id an unlisted alias), one not downloaded yet answers requests with
 * seed 002's `model_not_downloaded`, and `/models/builtin` lists, downloads and deletes them.
 */
export class BuiltinModels implements BuiltinModelControl {
  readonly #options: BuiltinModelsOptions
  readonly #entries: CatalogEntry[]
  /** The snapshot paths of the entries being served. */
  readonly #served = new Map<string, string[]>()
  /** Registrations under way: callers that joined one download register the model once. */
  readonly #serving = new Map<string, Promise<void>>()
  readonly #pulled: Set<string>
  /** Each entry's Hugging Face id, when no other entry shares it (hfAlias): worked out once, the entries are fixed. */
  readonly #alias = new Map<CatalogEntry, string>()
  readonly #byAlias = new Map<string, CatalogEntry>()

  constructor(options: BuiltinModelsOptions) {
    this.#options = options
    const ids = new Set(options.catalog.models.map((entry) => entry.id))
    const pulled = (options.pulled ?? []).filter((entry) => !ids.has(entry.id))
    this.#pulled = new Set(pulled.map((entry) => entry.id))
    this.#entries = [...options.catalog.models, ...pulled]
    const catalog = { ...options.catalog, models: this.#entries }
    for (const entry of this.#entries) {
      const alias = hfAlias(catalog, entry)
      if (!alias) continue
      this.#alias.set(entry, alias)
      this.#byAlias.set(alias, entry)
    }
  }

  /** Serves every entry whose files are already in the Hugging Face cache (ours or another tool's). */
  async start(): Promise<void> {
    for (const entry of this.#entries) {
      const paths = await this.#options.downloads.findAll(entry)
      if (paths) await this.#serve(entry, paths)
    }
  }

  /** For the registry: a catalog name not served yet is `model_not_downloaded`, not an unknown model. */
  explain = (model: string): Error | undefined => {
    const entry = this.#byName(model)
    return entry && !this.#served.has(entry.id) ? new ModelNotDownloadedError(model) : undefined
  }

  list(): BuiltinModelBody[] {
    return this.#entries.map((entry) => this.#body(entry))
  }

  get(id: string): BuiltinModelBody | undefined {
    const entry = this.#find(id)
    return entry && this.#body(entry)
  }

  async download(id: string, onProgress?: (done: number, total: number) => void): Promise<BuiltinModelBody> {
    const entry = this.#find(id)!
    if (!this.#served.has(id)) {
      let paths: string[]
      try {
        paths = await this.#options.downloads.download(entry, onProgress)
      } catch (error) {
        throw downloadError(entry, error)
      }
      let serving = this.#serving.get(id)
      if (!serving) {
        serving = this.#serve(entry, paths).finally(() => this.#serving.delete(id))
        this.#serving.set(id, serving)
      }
      await serving
    }
    return this.#body(entry)
  }

  cancel(id: string): Promise<boolean> {
    return this.#options.downloads.cancel(id)
  }

  async remove(id: string): Promise<BuiltinModelBody> {
    const entry = this.#find(id)!
    const state = this.#state(entry)
    if (state === 'downloading') throw new ConflictError(`Model ${id} is downloading: cancel it first (DELETE /models/builtin/${id}/download)`, { param: 'model_id', code: 'model_downloading' })
    if (state === 'loaded') throw new ConflictError(`Model ${id} is loaded: unload it first (POST /v1/models/${id}/unload)`, { param: 'model_id', code: 'model_loaded' })
    if (this.#served.has(id)) {
      this.#options.models.remove(id)
      this.#served.delete(id)
    }
    await this.#options.downloads.remove(entry)
    if (this.#pulled.has(id)) await forgetPulledModel(id, this.#options.pulledFile)
    this.#options.log(`model '${id}' deleted from the Hugging Face cache`)
    return this.#body(entry)
  }

  #find(id: string): CatalogEntry | undefined {
    return this.#entries.find((entry) => entry.id === id)
  }

  #aliases(entry: CatalogEntry): string[] {
    const alias = this.#alias.get(entry)
    return alias ? [alias] : []
  }

  #byName(name: string): CatalogEntry | undefined {
    return this.#find(name) ?? this.#byAlias.get(name)
  }

  /** Registers a downloaded entry with the model manager (lazy unless the catalog says eager), its HF id an unlisted alias. */
  async #serve(entry: CatalogEntry, paths: string[]): Promise<void> {
    const { models, registry, log } = this.#options
    if (registry.has(entry.id)) {
      log(`catalog model '${entry.id}' is not served from the catalog: the name is taken (the config or the models folder)`)
      return
    }
    const [path, ...rest] = paths
    const mmproj = entry.files.mmproj ? rest[0] : undefined
    await models.add({
      name: entry.id,
      adapter: entry.adapter,
      path: path!,
      options: { ...entry.options, ...(mmproj ? { mmproj } : {}) },
      load: entry.load ?? 'lazy',
    })
    for (const alias of this.#aliases(entry)) if (!registry.has(alias)) models.alias(alias, entry.id, { listed: false })
    this.#served.set(entry.id, paths)
  }

  #state(entry: CatalogEntry): BuiltinModelBody['state'] {
    if (this.#options.downloads.progress(entry.id)) return 'downloading'
    if (!this.#served.has(entry.id)) return 'not_downloaded'
    return RESIDENT.has(this.#options.registry.status(entry.id)?.state ?? '') ? 'loaded' : 'downloaded'
  }

  #body(entry: CatalogEntry): BuiltinModelBody {
    const state = this.#state(entry)
    const progress = this.#options.downloads.progress(entry.id)
    const error = this.#options.downloads.lastError(entry.id)
    const paths = this.#served.get(entry.id)
    return {
      id: entry.id,
      object: 'builtin_model',
      hf: entry.hf,
      revision: entry.revision ?? 'main',
      files: entryFiles(entry),
      aliases: this.#aliases(entry),
      capabilities: entry.capabilities,
      adapter: entry.adapter,
      description: entry.description,
      license: entry.license,
      size_bytes: entry.size ?? null,
      size_approximate: entry.sizeApproximate === true,
      state,
      ...(progress ? { progress: { done_bytes: progress.done, total_bytes: progress.total } } : {}),
      ...(error && state === 'not_downloaded' ? { error } : {}),
      ...(paths ? { paths } : {}),
    }
  }
}

/** A failed download as the client reads it: the hub's refusal or a bad file is an upstream failure (502) naming the file. */
function downloadError(entry: CatalogEntry, error: unknown): Error {
  if ((error as Error)?.name === 'AbortError') return new ConflictError(`The download of ${entry.id} was cancelled`, { param: 'model_id', code: 'download_cancelled' })
  const code = error instanceof DiskSpaceError ? 'insufficient_storage' : 'download_failed'
  return new ProviderError(`Downloading ${entry.id} (${entry.hf}) failed: ${(error as Error).message}`, { code, cause: error })
}
