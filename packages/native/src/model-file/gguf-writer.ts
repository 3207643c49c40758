/**
 * A GGUF (v3) writer: enough of the format for LoRA adapters and for the tiny models the tests run on real
 * llama.cpp and stable-diffusion.cpp. Layout: header, key/value metadata, tensor infos, padding, then each tensor's data
 * at aligned offsets. `encodeGguf` builds a file in memory; `writeGguf` streams one to a sink, each tensor's
 * bytes made only when written, for models too big to hold as floats.
 */
import { GgufValueType as ValueType } from './gguf-value-type.ts'

export enum TensorType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
  /** ggml's 1-bit type (an f16 scale and 128 sign bits per block), new in recent ggml. */
  Q1_0 = 41,
}

export type MetadataValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'strings'; value: string[] }
  | { type: 'f32s'; value: number[] | Float32Array }
  | { type: 'i32s'; value: number[] | Int32Array }

export interface TensorSpec {
  name: string
  /** ggml order: dims[0] is the length of a row. */
  dims: number[]
  data: Float32Array
  /** How the values are stored: f32 (default), f16, or q8_0 (blocks of 32: an f16 scale and 32 int8), as real models often are. */
  type?: 'f32' | 'f16' | 'q8_0'
}

/** IEEE half precision bits of a float (round to nearest). */
export function toHalf(value: number): number {
  const f32 = new Float32Array([value])
  const bits = new Uint32Array(f32.buffer)[0]!
  const sign = (bits >>> 16) & 0x8000
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15
  const mantissa = bits & 0x7fffff
  if (exponent <= 0) return sign
  if (exponent >= 31) return sign | 0x7c00
  const half = sign | (exponent << 10) | (mantissa >>> 13)
  return mantissa & 0x1000 ? half + 1 : half
}

/** ggml's Q8_0: per block of 32 values, d = max|x| / 127 as f16, then round(x / d) as int8. */
function quantizeQ8_0(data: Float32Array): Uint8Array {
  const blocks = data.length / 32
  const out = new Uint8Array(blocks * 34)
  const view = new DataView(out.buffer)
  for (let b = 0; b < blocks; b++) {
    let max = 0
    for (let i = 0; i < 32; i++) max = Math.max(max, Math.abs(data[b * 32 + i]!))
    const d = max / 127
    view.setUint16(b * 34, toHalf(d), true)
    for (let i = 0; i < 32; i++) view.setInt8(b * 34 + 2 + i, d === 0 ? 0 : Math.round(data[b * 32 + i]! / d))
  }
  return out
}

function tensorBytes(tensor: TensorSpec): Uint8Array {
  if (tensor.type === 'q8_0') {
    if (tensor.dims[0]! % 32 !== 0) throw new Error(`${tensor.name}: q8_0 needs rows of a multiple of 32 values`)
    return quantizeQ8_0(tensor.data)
  }
  if (tensor.type === 'f16') {
    const halves = Uint16Array.from(tensor.data, toHalf)
    return new Uint8Array(halves.buffer)
  }
  return new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)
}

const TENSOR_TYPES = { f32: TensorType.F32, f16: TensorType.F16, q8_0: TensorType.Q8_0 } as const

const ALIGNMENT = 32

class ByteWriter {
  #chunks: Uint8Array[] = []
  length = 0

  bytes(bytes: Uint8Array): void {
    this.#chunks.push(bytes)
    this.length += bytes.length
  }

  #view(size: number, fill: (view: DataView) => void): void {
    const buffer = new Uint8Array(size)
    fill(new DataView(buffer.buffer))
    this.bytes(buffer)
  }

  u32(value: number): void {
    this.#view(4, (v) => v.setUint32(0, value, true))
  }
  i32(value: number): void {
    this.#view(4, (v) => v.setInt32(0, value, true))
  }
  u64(value: number): void {
    this.#view(8, (v) => v.setBigUint64(0, BigInt(value), true))
  }
  f32(value: number): void {
    this.#view(4, (v) => v.setFloat32(0, value, true))
  }
  string(value: string): void {
    const encoded = new TextEncoder().encode(value)
    this.u64(encoded.length)
    this.bytes(encoded)
  }
  pad(alignment: number): void {
    const rest = this.length % alignment
    if (rest) this.bytes(new Uint8Array(alignment - rest))
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const chunk of this.#chunks) {
      out.set(chunk, offset)
      offset += chunk.length
    }
    return out
  }
}

function writeValue(w: ByteWriter, entry: MetadataValue): void {
  switch (entry.type) {
    case 'u32':
      w.u32(ValueType.UINT32)
      return w.u32(entry.value)
    case 'i32':
      w.u32(ValueType.INT32)
      return w.i32(entry.value)
    case 'f32':
      w.u32(ValueType.FLOAT32)
      return w.f32(entry.value)
    case 'bool':
      w.u32(ValueType.BOOL)
      return w.bytes(new Uint8Array([entry.value ? 1 : 0]))
    case 'string':
      w.u32(ValueType.STRING)
      return w.string(entry.value)
    case 'strings':
      return writeArray(w, ValueType.STRING, entry.value, (item) => w.string(item))
    case 'f32s':
      return writeArray(w, ValueType.FLOAT32, entry.value, (item) => w.f32(item))
    case 'i32s':
      return writeArray(w, ValueType.INT32, entry.value, (item) => w.i32(item))
  }
}

function writeArray<T>(w: ByteWriter, itemType: ValueType, items: ArrayLike<T> & Iterable<T>, write: (item: T) => void): void {
  w.u32(ValueType.ARRAY)
  w.u32(itemType)
  w.u64(items.length)
  for (const item of items) write(item)
}

/** A tensor whose bytes (already in its ggml type's layout) are made when the writer reaches it. */
export interface GgufTensorSource {
  name: string
  /** ggml order: dims[0] is the length of a row. */
  dims: number[]
  type: TensorType
  byteLength: number
  bytes: () => Uint8Array
}

/** Streams a GGUF file to `sink`, chunk by chunk; each tensor's bytes are made only when written. */
export function writeGguf(
  sink: (chunk: Uint8Array) => void,
  metadata: Record<string, MetadataValue>,
  tensors: GgufTensorSource[],
): void {
  const w = new ByteWriter()
  w.bytes(new TextEncoder().encode('GGUF'))
  w.u32(3)
  w.u64(tensors.length)
  w.u64(Object.keys(metadata).length)
  for (const [key, value] of Object.entries(metadata)) {
    w.string(key)
    writeValue(w, value)
  }
  let offset = 0
  for (const tensor of tensors) {
    w.string(tensor.name)
    w.u32(tensor.dims.length)
    for (const dim of tensor.dims) w.u64(dim)
    w.u32(tensor.type)
    w.u64(offset)
    offset += Math.ceil(tensor.byteLength / ALIGNMENT) * ALIGNMENT
  }
  w.pad(ALIGNMENT)
  sink(w.concat())
  for (const tensor of tensors) {
    const bytes = tensor.bytes()
    if (bytes.byteLength !== tensor.byteLength) {
      throw new Error(`${tensor.name}: ${bytes.byteLength} bytes, ${tensor.byteLength} declared`)
    }
    sink(bytes)
    const rest = bytes.byteLength % ALIGNMENT
    if (rest) sink(new Uint8Array(ALIGNMENT - rest))
  }
}

/** Serializes a GGUF file in memory. */
export function encodeGguf(metadata: Record<string, MetadataValue>, tensors: TensorSpec[]): Uint8Array {
  const sources = tensors.map((tensor): GgufTensorSource => {
    const elements = tensor.dims.reduce((a, b) => a * b, 1)
    if (elements !== tensor.data.length) throw new Error(`${tensor.name}: ${tensor.data.length} values for dims ${tensor.dims}`)
    const bytes = tensorBytes(tensor)
    const type = TENSOR_TYPES[tensor.type ?? 'f32']
    return { name: tensor.name, dims: tensor.dims, type, byteLength: bytes.byteLength, bytes: () => bytes }
  })
  const w = new ByteWriter()
  writeGguf((chunk) => w.bytes(chunk), metadata, sources)
  return w.concat()
}
