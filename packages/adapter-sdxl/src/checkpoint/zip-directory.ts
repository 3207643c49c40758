import { type FileWindow, ModelFileError } from '@cy/native'
import { inflateRawSync } from 'node:zlib'

export interface ZipEntry {
  name: string
  method: number
  compressedSize: number
  size: number
  localHeaderOffset: number
}

const EOCD = 0x06054b50
const ZIP64_LOCATOR = 0x07064b50
const ZIP64_EOCD = 0x06064b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024
const MAX_ENTRY_BYTES = 256 * 1024 * 1024

/** The central directory of a zip (torch's .ckpt / .pt), zip64 included: names, sizes and where each entry starts. */
export async function readZipDirectory(file: FileWindow): Promise<ZipEntry[]> {
  const tailLength = Math.min(file.size, 22 + 0xffff)
  const tail = await file.read(file.size - tailLength, tailLength, 'zip end record')
  const view = new DataView(tail.buffer)
  let at = -1
  for (let i = tailLength - 22; i >= 0; i--) if (view.getUint32(i, true) === EOCD) { at = i; break }
  if (at < 0) throw new ModelFileError('not a zip file: no end-of-central-directory record')
  let count = view.getUint16(at + 10, true)
  let directorySize = view.getUint32(at + 12, true)
  let directoryOffset = view.getUint32(at + 16, true)
  if ((count === 0xffff || directoryOffset === 0xffffffff) && at >= 20 && view.getUint32(at - 20, true) === ZIP64_LOCATOR) {
    const recordOffset = Number(view.getBigUint64(at - 12, true))
    const record = new DataView((await file.read(recordOffset, 56, 'zip64 end record')).buffer)
    if (record.getUint32(0, true) !== ZIP64_EOCD) throw new ModelFileError('bad zip64 end record')
    count = Number(record.getBigUint64(32, true))
    directorySize = Number(record.getBigUint64(40, true))
    directoryOffset = Number(record.getBigUint64(48, true))
  }
  if (directorySize > MAX_DIRECTORY_BYTES) throw new ModelFileError(`zip directory of ${directorySize} bytes is over the cap`)
  const directory = new DataView((await file.read(directoryOffset, directorySize, 'zip central directory')).buffer)
  const entries: ZipEntry[] = []
  let p = 0
  for (let i = 0; i < count; i++) {
    if (p + 46 > directorySize || directory.getUint32(p, true) !== CENTRAL) throw new ModelFileError('bad zip central directory entry')
    const nameLength = directory.getUint16(p + 28, true)
    const extraLength = directory.getUint16(p + 30, true)
    const commentLength = directory.getUint16(p + 32, true)
    if (p + 46 + nameLength + extraLength > directorySize) throw new ModelFileError('zip central directory entry runs past its end')
    const name = new TextDecoder().decode(new Uint8Array(directory.buffer, p + 46, nameLength))
    const entry: ZipEntry = {
      name,
      method: directory.getUint16(p + 10, true),
      compressedSize: directory.getUint32(p + 20, true),
      size: directory.getUint32(p + 24, true),
      localHeaderOffset: directory.getUint32(p + 42, true),
    }
    applyZip64Extra(entry, new DataView(directory.buffer, p + 46 + nameLength, extraLength))
    entries.push(entry)
    p += 46 + nameLength + extraLength + commentLength
  }
  return entries
}

// Sizes and offsets of 0xffffffff live in the zip64 extra field (id 1), in this order, only those that overflowed.
function applyZip64Extra(entry: ZipEntry, extra: DataView): void {
  for (let q = 0; q + 4 <= extra.byteLength; ) {
    const id = extra.getUint16(q, true)
    const length = extra.getUint16(q + 2, true)
    if (id === 1) {
      let r = q + 4
      const next = (): number => {
        const value = r + 8 <= q + 4 + length && r + 8 <= extra.byteLength ? Number(extra.getBigUint64(r, true)) : 0
        r += 8
        return value
      }
      if (entry.size === 0xffffffff) entry.size = next()
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next()
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next()
    }
    q += 4 + length
  }
}

/** One entry's bytes (stored or deflated), capped: the pickles wanted here are small. */
export async function readZipEntry(file: FileWindow, entry: ZipEntry): Promise<Uint8Array> {
  if (entry.compressedSize > MAX_ENTRY_BYTES || entry.size > MAX_ENTRY_BYTES) {
    throw new ModelFileError(`zip entry '${entry.name}' is over the ${MAX_ENTRY_BYTES}-byte cap`)
  }
  const local = new DataView((await file.read(entry.localHeaderOffset, 30, `local header of '${entry.name}'`)).buffer)
  if (local.getUint32(0, true) !== LOCAL) throw new ModelFileError(`bad zip local header for '${entry.name}'`)
  const start = entry.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true)
  const data = await file.read(start, entry.compressedSize, `zip entry '${entry.name}'`)
  if (entry.method === 0) return data
  if (entry.method === 8) {
    try {
      return inflateRawSync(data, { maxOutputLength: MAX_ENTRY_BYTES })
    } catch {
      throw new ModelFileError(`zip entry '${entry.name}' does not inflate`)
    }
  }
  throw new ModelFileError(`zip entry '${entry.name}' uses compression method ${entry.method}`)
}
