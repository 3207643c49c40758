import type { LoadProgress } from '../../registry/model-status.ts'

/** One model to load, from a config file or a models folder. */
export interface ModelConfig {
  /** The name clients use in `model`. */
  name: string
  /** The adapter that serves it (its manifest name). */
  adapter: string
  /** The model file or folder, when the adapter needs one. */
  path?: string
  /** Adapter-specific options (context size, GPU layers, threads...). */
  options?: Record<string, unknown>
  /** The folder of the config file that named the model: relative paths in `options` are relative to it. */
  configDir?: string
  /** Where a long load reports how far it is (an engine build's percent): shown in the model's state. */
  onProgress?: (progress: LoadProgress) => void
}
