import type { ModelLimits } from '../../limits/model-limits.ts'
import type { Providers } from '../../registry/handlers.ts'
import type { SupportedParameters } from '../../requests/optional-parameters.ts'
import type { ToolCallMode } from '../../generation/tool-modes.ts'
import type { AdapterManifest } from './adapter-manifest.ts'
import type { AdapterTraining } from './adapter-training.ts'
import type { EngineStatusSource } from './engine-status.ts'
import type { ModelConfig } from './model-config.ts'

/** A loaded model: one handler per capability it serves, and a way to free it. */
export interface LoadedModel {
  providers: Providers
  /** Facts shown in model details (context size, file, backend...). */
  metadata?: Record<string, unknown>
  /** `bridge` when the engine has no tool calling of its own: the gateway's text bridge supplies it (default native). */
  toolCalls?: ToolCallMode
  /**
   * What the engine runs at once (its `parallel`) and how many may wait for it: the server queues the
   * rest in front of the model and answers 429 past the queue, instead of piling them onto the engine.
   */
  limits?: ModelLimits
  /** The optional request fields it honours, per capability (see `OPTIONAL_PARAMETERS`); others are refused with 400. */
  supports?: SupportedParameters
  /** Engine status after load (an engine host in its own process that crashes and restarts); absent: always ready. */
  onStatus?: EngineStatusSource
  dispose(): void | Promise<void>
}

/** How sure an adapter is that it can load a file. */
export type Claim = { claim: true; capabilities?: string[] } | { claim: false; reason?: string }

/**
 * Version 1 of the adapter contract. An adapter package's default export is a factory returning this;
 * the server finds it through `"cy": { "adapter": "<entry>" }` in the package's package.json.
 */
export interface AdapterV1 {
  readonly specificationVersion: 'v1'
  readonly manifest: AdapterManifest
  /** Looks at a file (by path and its first bytes) and says whether this adapter can load it. */
  canLoad(path: string, head: Uint8Array): Claim | Promise<Claim>
  /** Loads a model. Heavy work belongs off the main thread (see `WorkerHost`). */
  load(config: ModelConfig): Promise<LoadedModel>
  /** Fine-tuning jobs for the models it serves, when it trains (seed 004's training API). */
  readonly training?: AdapterTraining
}

/** Every adapter package's default export. Options come from the server's config. */
export type AdapterFactory = (options?: Record<string, unknown>) => AdapterV1 | Promise<AdapterV1>

export function isAdapterV1(value: unknown): value is AdapterV1 {
  const candidate = value as Partial<AdapterV1> | null
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.specificationVersion === 'v1' &&
    typeof candidate.load === 'function' &&
    typeof candidate.canLoad === 'function' &&
    typeof candidate.manifest?.name === 'string'
  )
}
