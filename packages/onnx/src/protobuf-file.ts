import type { FileWindow } from '@cy/native'
import { ProtobufFormatError } from './protobuf-format-error.ts'
import { MAX_FIELD_HEADER_BYTES, readFieldHeader, type ProtoField } from './protobuf-wire.ts'

// Headers are read through one window, so walking thousands of small nodes costs a few reads, and a large
// field (an initializer, hundreds of MB) is skipped by moving the offset, never read.
const WINDOW_BYTES = 64 * 1024

/** A protobuf file read with positional reads: only the bytes asked for (and a window after them) are read. */
export class ProtoFile {
  private window: Uint8Array = new Uint8Array(0)
  private windowStart = 0

  constructor(private readonly file: FileWindow) {}

  get size(): number {
    return this.file.size
  }

  /** Up to `length` bytes at `offset` (fewer only at the end of the file). */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const want = Math.min(length, this.size - offset)
    if (want <= 0) return new Uint8Array(0)
    if (offset >= this.windowStart && offset + want <= this.windowStart + this.window.length) {
      return this.window.subarray(offset - this.windowStart, offset - this.windowStart + want)
    }
    this.window = await this.file.read(offset, Math.max(want, Math.min(WINDOW_BYTES, this.size - offset)), 'a protobuf field')
    this.windowStart = offset
    return this.window.subarray(0, want)
  }

  /** Exactly the payload of `field`, at most `cap` bytes (a larger one is an error naming `what`). */
  async payload(field: ProtoField, cap: number, what: string): Promise<Uint8Array> {
    const length = field.end - field.start
    if (length > cap) throw new ProtobufFormatError(`${what} is ${length} bytes, more than the ${cap} allowed`)
    const bytes = await this.read(field.start, length)
    if (bytes.length < length) throw new ProtobufFormatError(`${what} is cut off at the end of the file (truncated?)`)
    return bytes
  }

  /** The fields of the message between `start` and `end` (absolute offsets), payloads not read. */
  async *fields(start: number, end: number): AsyncGenerator<ProtoField> {
    if (end > this.size) throw new ProtobufFormatError(`a message ends at offset ${end}, past the file's ${this.size} bytes (truncated?)`)
    let pos = start
    while (pos < end) {
      const bytes = await this.read(pos, MAX_FIELD_HEADER_BYTES)
      const field = readFieldHeader(bytes, 0, pos, end)
      if (field === undefined) throw new ProtobufFormatError(`a field header at offset ${pos} is cut off (truncated?)`)
      yield field
      pos = field.end
    }
  }
}
