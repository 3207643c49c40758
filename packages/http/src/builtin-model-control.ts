import type { BuiltinModelBody } from './wire/builtin-models.ts'

/**
 * The model catalog and its downloads (`/models/builtin`), given by the server app. Unknown ids are the
 * routes' concern (they 404 before calling in); each method may throw a typed error (409 for a delete the
 * state forbids).
 */
export interface BuiltinModelControl {
  /** Every catalog entry with its state, in catalog order. */
  list(): BuiltinModelBody[]
  /** One entry, or undefined when the id is not in the catalog. */
  get(id: string): BuiltinModelBody | undefined
  /**
   * Starts the download, or joins the one running; resolves with the entry once it is downloaded and
   * served, rejects when the download fails or is cancelled. `onProgress` hears bytes done and in all.
   */
  download(id: string, onProgress?: (done: number, total: number) => void): Promise<BuiltinModelBody>
  /** Cancels a download in progress (its partial file is kept for a later resume); false when none runs. */
  cancel(id: string): Promise<boolean>
  /** Deletes the downloaded files; refuses (409) while the model is downloading or loaded. */
  remove(id: string): Promise<BuiltinModelBody>
}
