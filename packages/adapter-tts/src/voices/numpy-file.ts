import { inflateRawSync } from 'node:zlib'
import { TtsModelError } from './tts-model-error.ts'

/** A float32 array read from a `.npy`, with its shape. */
export interface NpyArray {
  shape: number[]
  data: Float32Array
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]

/** A `.npy` of little-endian float32 in C order (numpy's format.py, versions 1–3). */
export function readNpy(bytes: Uint8Array, name: string): NpyArray {
  if (!NPY_MAGIC.every((byte, i) => bytes[i] === byte)) throw new TtsModelError(`${name}: not a .npy array`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const major = bytes[6]!
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true)
  const start = major === 1 ? 10 : 12
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength))
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1]
  if (descr !== '<f4') throw new TtsModelError(`${name}: dtype ${descr ?? '?'} (float32 '<f4' expected)`)
  if (/'fortran_order':\s*True/.test(header)) throw new TtsModelError(`${name}: Fortran order is not supported`)
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]
  if (shapeText === undefined) throw new TtsModelError(`${name}: no shape in the .npy header`)
  const shape = shapeText.split(',').map((part) => part.trim()).filter(Boolean).map(Number)
  const count = shape.reduce((product, dim) => product * dim, 1)
  const offset = start + headerLength
  if (bytes.length - offset < count * 4) throw new TtsModelError(`${name}: ${bytes.length - offset} bytes of data for shape (${shape.join(', ')})`)
  // Copied: the data's offset in the file need not be 4-aligned.
  const data = new Float32Array(count)
  new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + count * 4))
  return { shape, data }
}

const ZIP_LOCAL = 0x04034b50
const ZIP_CENTRAL = 0x02014b50
const ZIP_END = 0x06054b50

/** The members of a `.npz` (a zip of `.npy`, stored or deflated, as np.savez and np.savez_compressed write), by name without `.npy`. */
export function readNpz(bytes: Uint8Array, name: string): Map<string, NpyArray> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let end = -1
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65_535); i--) {
    if (view.getUint32(i, true) === ZIP_END) {
      end = i
      break
    }
  }
  if (end < 0) throw new TtsModelError(`${name}: not a zip (.npz) file`)
  const entries = view.getUint16(end + 10, true)
  let at = view.getUint32(end + 16, true)
  const arrays = new Map<string, NpyArray>()
  for (let n = 0; n < entries; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== ZIP_CENTRAL) throw new TtsModelError(`${name}: a broken zip directory`)
    const method = view.getUint16(at + 10, true)
    let compressed = view.getUint32(at + 20, true)
    const nameLength = view.getUint16(at + 28, true)
    const extraLength = view.getUint16(at + 30, true)
    const commentLength = view.getUint16(at + 32, true)
    let local = view.getUint32(at + 42, true)
    const member = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength))
    // Zip64 (numpy forces it): the sizes and offset that read 0xFFFFFFFF follow in the extra field, in order.
    const zip64 = readZip64(view, at + 46 + nameLength, extraLength, { uncompressed: view.getUint32(at + 24, true) === 0xffffffff, compressed: compressed === 0xffffffff, offset: local === 0xffffffff })
    if (zip64.compressed !== undefined) compressed = zip64.compressed
    if (zip64.offset !== undefined) local = zip64.offset
    at += 46 + nameLength + extraLength + commentLength
    if (view.getUint32(local, true) !== ZIP_LOCAL) throw new TtsModelError(`${name}: ${member}: a broken zip entry`)
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true)
    const raw = bytes.subarray(dataStart, dataStart + compressed)
    if (method !== 0 && method !== 8) throw new TtsModelError(`${name}: ${member}: zip method ${method} (stored or deflate expected)`)
    const npy = method === 8 ? new Uint8Array(inflateRawSync(raw)) : raw
    arrays.set(member.replace(/\.npy$/, ''), readNpy(npy, `${name}:${member}`))
  }
  return arrays
}

function readZip64(view: DataView, start: number, length: number, wanted: { uncompressed: boolean; compressed: boolean; offset: boolean }): { compressed?: number; offset?: number } {
  for (let at = start; at + 4 <= start + length; ) {
    const id = view.getUint16(at, true)
    const size = view.getUint16(at + 2, true)
    if (id === 0x0001) {
      let field = at + 4
      const next = () => {
        const value = Number(view.getBigUint64(field, true))
        field += 8
        return value
      }
      if (wanted.uncompressed) next()
      const compressed = wanted.compressed ? next() : undefined
      const offset = wanted.offset ? next() : undefined
      return { ...(compressed === undefined ? {} : { compressed }), ...(offset === undefined ? {} : { offset }) }
    }
    at += 4 + size
  }
  return {}
}
