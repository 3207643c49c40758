/**
 * Loading and unloading models on request (`POST /v1/models/{id}/load`, `/unload`) and what `/ready` waits
 * for: given by whoever owns the models' life (the server app's ModelManager). Without one, every
 * registered model is always loaded.
 */
export interface ModelControl {
  /** Loads the model (a no-op when ready); resolves once it is ready, rejects with why it is not. */
  load(name: string): Promise<void>
  /** Unloads the model once its requests in flight are done or failed; resolves once it is unloaded. */
  unload(name: string): Promise<void>
  /** The models `/ready` waits for (the eager ones). */
  required(): string[]
}
