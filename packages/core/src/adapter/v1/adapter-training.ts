import type { TrainingJobs } from '../../training/training-jobs.ts'
import type { ModelConfig } from './model-config.ts'

/** What the server gives an adapter's trainer. */
export interface TrainerOptions {
  /** The SQLite file of the jobs (`:memory:` for none). */
  storePath: string
  /** Folders a `datasetPath` (or a `baseModel` given as a path) must be inside. */
  allowedDataDirs: readonly string[]
  /** Folders an `outputDir` must be inside. */
  allowedOutputDirs: readonly string[]
  /** A served model's config by name (a `baseModel` given as an id), or undefined. */
  resolveModel(name: string): ModelConfig | undefined
  /** The served models this adapter trains, for the error naming them. */
  modelNames(): string[]
  /** Jobs that run at once (default 1); the rest wait `queued`. */
  concurrency?: number
  /** Engine threads when a request names none (default: every core). */
  threads?: number
  log?: (line: string) => void
}

/** An adapter that fine-tunes the models it serves (optional part of the v1 contract). */
export interface AdapterTraining {
  /**
   * Options a served model gets so that the adapters training produces for it are served at once (the
   * llama adapter's `loraDir`), given a folder of its own under the server's adapters folder.
   */
  servingOptions?(modelName: string, adaptersDir: string): Record<string, unknown>
  createTrainer(options: TrainerOptions): TrainingJobs
}
