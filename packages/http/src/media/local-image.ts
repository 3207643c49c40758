import { realpath, stat } from 'node:fs/promises'
import { resolve, sep } from 'node:path'
import { ImageTooLargeError } from './image-too-large-error.ts'
import { InvalidImageUrlError } from './invalid-image-url-error.ts'
import { readLimited } from './read-limited.ts'

const HOW_TO_ALLOW = 'start the server with --allowed-media-dir <folder> (media.allowedDirs) to allow the images of a folder'

function inside(folder: string, path: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep)
}

/**
 * Images read by path from allow-listed folders only. A path is checked twice: as written (so nothing
 * outside is even looked at, and a refusal tells nothing about what exists there) and as its real path,
 * symlinks resolved, which must lie in a folder's real path.
 */
export class LocalImages {
  readonly #folders: string[]

  constructor(folders: readonly string[]) {
    this.#folders = folders.map((folder) => resolve(folder))
  }

  async read(path: string, param: string, maxBytes: number): Promise<Uint8Array> {
    if (this.#folders.length === 0) throw new InvalidImageUrlError(param, `local image paths are not allowed on this server; ${HOW_TO_ALLOW}`, 'image_path_not_allowed')
    const outside = () => new InvalidImageUrlError(param, `the path is outside the folders this server may read images from; ${HOW_TO_ALLOW}`, 'image_path_not_allowed')
    const written = resolve(path)
    const roots = (await Promise.all(this.#folders.map((folder) => realpath(folder).catch(() => undefined)))).filter((root) => root !== undefined)
    if (!this.#folders.some((folder) => inside(folder, written)) && !roots.some((root) => inside(root, written))) throw outside()
    let real: string
    try {
      real = await realpath(written)
    } catch {
      throw new InvalidImageUrlError(param, 'no image file at that path')
    }
    if (!roots.some((root) => inside(root, real))) throw outside()
    const info = await stat(real)
    if (!info.isFile()) throw new InvalidImageUrlError(param, 'the path is not a file')
    const tooLarge = () => new ImageTooLargeError(param, maxBytes)
    if (info.size > maxBytes) throw tooLarge()
    return readLimited(Bun.file(real).stream(), maxBytes, tooLarge)
  }
}
