import { watch, type FSWatcher } from 'node:fs'
import { mkdir, readdir } from 'node:fs/promises'

/** An adapter's name: a file name of the adapters folder without `.gguf`, never a path. */
export const ADAPTER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/

/** The `.gguf` files of `dir`, by name, sorted (none when it cannot be read). */
async function listAdapters(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir))
      .filter((file) => file.endsWith('.gguf') && ADAPTER_NAME.test(file.slice(0, -5)))
      .map((file) => file.slice(0, -5))
      .sort()
  } catch {
    return []
  }
}

/**
 * A model's LoRA adapters folder and the names in it. `names` is one array, updated in place, so the
 * model's metadata that holds it (and the registry, which keeps the same array) follows the folder: a
 * watch on the folder lists it again on every change (a training job's adapter renamed in, one deleted),
 * and so does every `refresh`.
 */
export class AdapterFolder {
  readonly names: string[] = []
  #watcher: FSWatcher | undefined
  /** The listing in progress or last done: listings run one after another, so an older one never lands last. */
  #last: Promise<unknown> = Promise.resolve()
  /** A listing queued behind `#last` and not started yet: callers meanwhile share it. */
  #next: Promise<readonly string[]> | undefined

  private constructor(readonly dir: string | undefined) {}

  /** The folder listed, and watched; made when missing, so that a job's first adapter is seen. No folder: no adapters. */
  static async open(dir: string | undefined): Promise<AdapterFolder> {
    const folder = new AdapterFolder(dir)
    if (!dir) return folder
    // A folder that cannot be made or watched is still listed on every request: only the live list is lost.
    await mkdir(dir, { recursive: true }).catch(() => {})
    try {
      folder.#watcher = watch(dir, { persistent: false }, () => void folder.refresh())
      folder.#watcher.on('error', () => folder.close())
    } catch {
      folder.#watcher = undefined
    }
    await folder.refresh()
    return folder
  }

  /** Lists the folder now and updates `names`; resolves to them. */
  refresh(): Promise<readonly string[]> {
    if (!this.dir) return Promise.resolve(this.names)
    if (this.#next) return this.#next
    const dir = this.dir
    const next = this.#last.then(async () => {
      // Started: a change from here on needs a listing of its own.
      this.#next = undefined
      const names = await listAdapters(dir)
      this.names.splice(0, this.names.length, ...names)
      return this.names
    })
    this.#next = next
    this.#last = next
    return next
  }

  close(): void {
    this.#watcher?.close()
    this.#watcher = undefined
  }
}
