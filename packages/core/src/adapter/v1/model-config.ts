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
}
