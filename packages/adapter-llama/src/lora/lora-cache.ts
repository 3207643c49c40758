import { BadRequestError, ProviderError } from '@cy/core'
import type { Pointer } from 'bun:ffi'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { LlamaNative } from '../native/llama-native.ts'

interface LoadedLora {
  name: string
  pointer: Pointer
  /** Requests holding it (see `LoraCache.acquire`). */
  users: number
}

/** A request's hold on one loaded file of an adapter: `key` names that file's version, `release` lets it go. */
export interface LoraLease {
  key: string
  release(): void
}

/**
 * The engine's loaded LoRA adapters, one per file version: keyed by name and the file's identity (inode,
 * size, mtime, ctime), so a `<name>.gguf` replaced by a new training job is loaded anew on the next request while
 * the requests running under the old one finish with it. A version is freed once it is not the file's
 * current one and no request holds it; `detach` first takes it off the context that may still have it set.
 */
export class LoraCache {
  readonly #loaded = new Map<string, LoadedLora>()
  /** Each name's current version (its key). */
  readonly #current = new Map<string, string>()

  constructor(
    readonly native: LlamaNative,
    readonly model: Pointer,
    readonly dir: string,
    readonly detach: (key: string) => void,
  ) {}

  /** The adapter `name` as its file is now (loaded when this version is new), held until the lease is released. */
  async acquire(name: string): Promise<LoraLease> {
    const path = join(this.dir, `${name}.gguf`)
    const file = await stat(path, { bigint: true }).catch(() => undefined)
    if (!file?.isFile()) {
      this.#retire(name)
      throw new BadRequestError(`The adapter '${name}' is no longer in the adapters folder`, { param: 'adapter', code: 'adapter_not_found' })
    }
    // ctime too: a file renamed in over the old one may get the inode the one before it had freed.
    const key = `${name}@${file.ino}-${file.size}-${file.mtimeNs}-${file.ctimeNs}`
    let lora = this.#loaded.get(key)
    if (!lora) {
      const pointer = this.native.loadLora(this.model, path)
      if (!pointer) throw new BadRequestError(`The adapter '${name}' does not fit this model (llama.cpp refused it: another architecture or shape?)`, { param: 'adapter', code: 'invalid_adapter' })
      lora = { name, pointer, users: 0 }
      this.#loaded.set(key, lora)
    }
    if (this.#current.get(name) !== key) {
      this.#retire(name)
      this.#current.set(name, key)
    }
    lora.users++
    let held = true
    return {
      key,
      release: () => {
        if (!held) return
        held = false
        lora.users--
        this.#freeIfUnused(key)
      },
    }
  }

  /** A version held by a request (see `acquire`). */
  pointer(key: string): Pointer {
    const lora = this.#loaded.get(key)
    if (!lora) throw new ProviderError(`The LoRA adapter ${key} is not loaded`)
    return lora.pointer
  }

  /** `name`'s current version is current no more: freed now when unused, else when its last request ends. */
  #retire(name: string): void {
    const key = this.#current.get(name)
    if (key === undefined) return
    this.#current.delete(name)
    this.#freeIfUnused(key)
  }

  #freeIfUnused(key: string): void {
    const lora = this.#loaded.get(key)
    if (!lora || lora.users > 0 || this.#current.get(lora.name) === key) return
    this.detach(key)
    this.native.freeLora(lora.pointer)
    this.#loaded.delete(key)
  }

  /** Frees every version (the model is being unloaded: no request runs any more). */
  dispose(): void {
    for (const lora of this.#loaded.values()) this.native.freeLora(lora.pointer)
    this.#loaded.clear()
    this.#current.clear()
  }
}
