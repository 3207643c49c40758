import { ModelFileError } from './model-file-error.ts'
import type { FileWindow } from './file-window.ts'

const CHUNK = 1 << 20

/** Little-endian reads from a file position onward through a 1 MiB buffer (GGUF headers are read in order). */
export class SequentialReader {
  private buffer: Uint8Array = new Uint8Array(0)
  private bufferStart = 0
  position = 0

  constructor(private readonly file: FileWindow) {}

  private async ensure(length: number, what: string): Promise<DataView> {
    const offset = this.position - this.bufferStart
    if (offset < 0 || offset + length > this.buffer.length) {
      const want = Math.max(length, CHUNK)
      const available = Math.min(want, this.file.size - this.position)
      if (available < length) throw new ModelFileError(`truncated file: ${what} at byte ${this.position} runs past the end`)
      this.buffer = await this.file.read(this.position, available, what)
      this.bufferStart = this.position
    }
    const view = new DataView(this.buffer.buffer, this.buffer.byteOffset + (this.position - this.bufferStart), length)
    this.position += length
    return view
  }

  async u32(what: string): Promise<number> {
    return (await this.ensure(4, what)).getUint32(0, true)
  }

  /** A u64 that must stay at or under `max` (counts and lengths: past it the file is garbage). */
  async u64(what: string, max: number): Promise<number> {
    const value = (await this.ensure(8, what)).getBigUint64(0, true)
    if (value > BigInt(max)) throw new ModelFileError(`${what} ${value} is over the cap of ${max}`)
    return Number(value)
  }

  async bytes(length: number, what: string): Promise<Uint8Array> {
    if (length <= CHUNK) {
      const view = await this.ensure(length, what)
      return new Uint8Array(view.buffer, view.byteOffset, length)
    }
    const bytes = await this.file.read(this.position, length, what)
    this.position += length
    return bytes
  }

  skip(length: number, what: string): void {
    if (this.position + length > this.file.size) throw new ModelFileError(`truncated file: ${what} at byte ${this.position} runs past the end`)
    this.position += length
  }
}
