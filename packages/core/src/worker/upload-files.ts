import { randomUUID } from 'node:crypto'
import { rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Uploads on their way to an engine process go as temporary files: sent over IPC their bytes would be
 * serialized on this event loop; written off it, only the paths travel. The files exist while `use`
 * runs and are removed when it ends, however it ends.
 */
export async function withUploadFiles<T>(prefix: string, uploads: readonly Uint8Array[], use: (paths: string[]) => Promise<T>): Promise<T> {
  const paths = uploads.map(() => join(tmpdir(), `${prefix}-${randomUUID()}`))
  try {
    await Promise.all(uploads.map((bytes, i) => writeFile(paths[i]!, bytes)))
    return await use(paths)
  } finally {
    await Promise.all(paths.map((path) => rm(path, { force: true })))
  }
}
