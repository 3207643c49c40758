/** Where a model is in its life: the registry keeps it, the routes show it, the dispatcher waits on it. */
export type ModelState = 'loading' | 'ready' | 'unloading' | 'unloaded' | 'failed'

export const MODEL_STATES: readonly ModelState[] = ['loading', 'ready', 'unloading', 'unloaded', 'failed']

/** How far a load has come: a stage, and a percentage when the loader can tell. */
export interface LoadProgress {
  stage: string
  percent?: number
}

export interface ModelStatus {
  state: ModelState
  /** Why it failed, or why the last load was refused (an `unloaded` model whose load found no room). */
  reason?: string
  /** While `loading`. */
  progress?: LoadProgress
  /** Unix milliseconds when it became ready. */
  loadedAt?: number
}

/**
 * What the owner of a model's life (the server app's ModelManager) hooks into the registry: a request that
 * finds the model unloaded starts its load through `autoload` (absent: the request gets 503), and `busy`
 * says when its requests in flight go from none to some and back (for idle unloading).
 */
export interface ModelLifecycle {
  autoload?(): void
  busy?(busy: boolean): void
}
