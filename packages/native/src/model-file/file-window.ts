import { open, type FileHandle } from 'node:fs/promises'
import { ModelFileError } from './model-file-error.ts'

/** Positional reads of a file that refuse to run past its end, so a truncated header fails clearly. */
export class FileWindow {
  private constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<FileWindow> {
    const handle = await open(path, 'r')
    try {
      return new FileWindow(handle, (await handle.stat()).size)
    } catch (error) {
      await handle.close()
      throw error
    }
  }

  async read(offset: number, length: number, what: string): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new ModelFileError(`truncated file: ${what} (${length} bytes at ${offset}) runs past the end (${this.size} bytes)`)
    }
    const bytes = new Uint8Array(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await this.handle.read(bytes, done, length - done, offset + done)
      if (bytesRead === 0) throw new ModelFileError(`truncated file: ${what} could not be read`)
      done += bytesRead
    }
    return bytes
  }

  close(): Promise<void> {
    return this.handle.close()
  }
}

/** Opens a file, runs `use` on it, and always closes it. */
export async function withFile<T>(path: string, use: (file: FileWindow) => Promise<T>): Promise<T> {
  const file = await FileWindow.open(path)
  try {
    return await use(file)
  } finally {
    await file.close()
  }
}
