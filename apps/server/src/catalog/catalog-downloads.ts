import { deleteCached, DownloadChecksumError, downloadFile, findCached, hubCacheDir, repoCacheDir } from '@cy/hub'
import { createReadStream } from 'node:fs'
import { readdir, realpath, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { CatalogEntry } from './catalog-schema.ts'
import { entryFiles } from './load-catalog.ts'

export interface DownloadsOptions {
  /** The hub (default HF_ENDPOINT, else huggingface.co). */
  endpoint?: string
  /** Default HF_TOKEN. */
  token?: string
}

type Listener = (done: number, total: number) => void

interface Flight {
  promise: Promise<string[]>
  controller: AbortController
  listeners: Set<Listener>
  /** Bytes done and in all, per file. */
  files: Map<string, [number, number]>
  /** Stopped by `cancel` (rather than by a failing file, which aborts the others too). */
  cancelled: boolean
}

const SHA256 = /^[0-9a-f]{64}$/

/**
 * Downloads catalog entries (every file of one, side by side) through @cy/hub into the Hugging Face cache:
 * one download per entry however many callers (they join it and hear its progress), cancellable, each file
 * checked against the sha256 the catalog pins (the hub's own sha256 is checked by @cy/hub).
 */
export class CatalogDownloads {
  readonly #options: DownloadsOptions
  readonly #flights = new Map<string, Flight>()
  readonly #errors = new Map<string, string>()

  constructor(options: DownloadsOptions = {}) {
    this.#options = options
  }

  /** The snapshot paths of every file of the entry when all are in the cache (whoever put them there), else undefined. */
  async findAll(entry: CatalogEntry): Promise<string[] | undefined> {
    const paths: string[] = []
    for (const file of entryFiles(entry)) {
      const path = await findCached(entry.hf, file, entry.revision ?? 'main')
      if (!path) return undefined
      paths.push(path)
    }
    return paths
  }

  /** Bytes done and in all while the entry downloads; undefined otherwise. */
  progress(id: string): { done: number; total: number } | undefined {
    const flight = this.#flights.get(id)
    if (!flight) return undefined
    let done = 0
    let total = 0
    for (const [fileDone, fileTotal] of flight.files.values()) {
      done += fileDone
      total += fileTotal
    }
    return { done, total }
  }

  /** Why the entry's last download failed, until another starts. */
  lastError(id: string): string | undefined {
    return this.#errors.get(id)
  }

  /** Starts the entry's download or joins the running one; resolves with the snapshot paths, files in `entryFiles` order. */
  download(entry: CatalogEntry, onProgress?: Listener): Promise<string[]> {
    let flight = this.#flights.get(entry.id)
    if (!flight) {
      this.#errors.delete(entry.id)
      const controller = new AbortController()
      const started: Flight = { controller, listeners: new Set(), files: new Map(), cancelled: false, promise: Promise.resolve([]) }
      started.promise = this.#fetchAll(entry, started).then(
        (paths) => {
          this.#flights.delete(entry.id)
          return paths
        },
        (error: unknown) => {
          this.#flights.delete(entry.id)
          this.#errors.set(entry.id, started.cancelled ? 'the download was cancelled' : (error as Error).message)
          throw error
        },
      )
      this.#flights.set(entry.id, (flight = started))
    }
    if (!onProgress) return flight.promise
    const joined = flight
    joined.listeners.add(onProgress)
    return joined.promise.finally(() => joined.listeners.delete(onProgress))
  }

  /** Stops the entry's download; resolves once it has let go of its partial files (kept for a resume). False when none ran. */
  async cancel(id: string): Promise<boolean> {
    const flight = this.#flights.get(id)
    if (!flight) return false
    flight.cancelled = true
    flight.controller.abort(new DOMException('The download was cancelled', 'AbortError'))
    await flight.promise.catch(() => {})
    return true
  }

  /** Deletes the entry's cached files, and partial downloads of them. */
  async remove(entry: CatalogEntry): Promise<void> {
    const revision = entry.revision ?? 'main'
    for (const file of entryFiles(entry)) await deleteCached(entry.hf, file, revision)
    await this.#removePartials(entry)
  }

  async #fetchAll(entry: CatalogEntry, flight: Flight): Promise<string[]> {
    const report = () => {
      const progress = this.progress(entry.id)
      if (progress) for (const listener of flight.listeners) listener(progress.done, progress.total)
    }
    const files = entryFiles(entry)
    for (const file of files) flight.files.set(file, [0, 0])
    try {
      return await Promise.all(
        files.map(async (file) => {
          const path = await downloadFile({
            repo: entry.hf,
            file,
            revision: entry.revision ?? 'main',
            signal: flight.controller.signal,
            ...(this.#options.endpoint ? { endpoint: this.#options.endpoint } : {}),
            ...(this.#options.token ? { token: this.#options.token } : {}),
            onProgress: (done, total) => {
              flight.files.set(file, [done, total])
              report()
            },
          })
          await this.#checkPinned(entry, file, path)
          return path
        }),
      )
    } catch (error) {
      // One file failing stops the others: the entry is one download.
      flight.controller.abort(error)
      throw error
    }
  }

  /** A file whose sha256 the catalog pins must be that file: the blob's name is its verified sha256, else it is hashed. */
  async #checkPinned(entry: CatalogEntry, file: string, path: string): Promise<void> {
    const pinned = entry.sha256?.[file]
    if (!pinned) return
    const blob = basename(await realpath(path))
    let actual = blob
    if (!SHA256.test(blob)) {
      const hasher = new Bun.CryptoHasher('sha256')
      for await (const chunk of createReadStream(path)) hasher.update(chunk as Buffer)
      actual = hasher.digest('hex')
    }
    if (actual === pinned) return
    await deleteCached(entry.hf, file, entry.revision ?? 'main')
    throw new DownloadChecksumError(`${entry.hf}/${file}: sha256 ${actual}, but the catalog pins ${pinned}; the file was deleted`)
  }

  /** Partial downloads (`blobs/*.incomplete`) of the entry's repository when no other download of it runs. */
  async #removePartials(entry: CatalogEntry): Promise<void> {
    if ([...this.#flights.keys()].some((id) => id !== entry.id)) return
    const blobs = join(repoCacheDir(entry.hf, hubCacheDir()), 'blobs')
    for (const name of await readdir(blobs).catch(() => [])) if (name.endsWith('.incomplete')) await rm(join(blobs, name), { force: true })
  }
}
