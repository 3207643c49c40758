import type { FileWindow, TensorIndex, TensorInfo } from '@cy/native'
import { LoraExtractionError } from './lora-extraction-error.ts'

// ggml type numbers (ggml.h) of the float types read here; anything else is quantized.
const F32 = '0'
const F16 = '1'
const BF16 = '30'
const BYTES_PER_VALUE: Record<string, number> = { [F32]: 4, [F16]: 2, [BF16]: 2 }
const QUANTIZED_NAMES: Record<string, string> = {
  '2': 'q4_0', '3': 'q4_1', '6': 'q5_0', '7': 'q5_1', '8': 'q8_0', '10': 'q2_K', '11': 'q3_K', '12': 'q4_K', '13': 'q5_K', '14': 'q6_K', '15': 'q8_K',
}

const FLOAT_NAMES: Record<string, string> = { [F32]: 'f32', [F16]: 'f16', [BF16]: 'bf16' }

export function isFloatTensor(tensor: TensorInfo): boolean {
  return tensor.dtype in BYTES_PER_VALUE
}

export function describeType(dtype: string): string {
  return QUANTIZED_NAMES[dtype] ?? FLOAT_NAMES[dtype] ?? `ggml type ${dtype}`
}

export function valueCount(tensor: TensorInfo): number {
  return (tensor.shape ?? []).reduce((a, b) => a * b, 1)
}

/** The raw bytes of one f32, f16 or bf16 tensor of a GGUF file read with `readGguf`. */
export async function tensorBytes(file: FileWindow, index: TensorIndex, tensor: TensorInfo): Promise<Uint8Array> {
  const offset = index.dataOffsets?.get(tensor.name)
  const size = BYTES_PER_VALUE[tensor.dtype]
  if (offset === undefined || size === undefined) throw new LoraExtractionError(`tensor '${tensor.name}' cannot be read as floats`)
  return file.read(offset, valueCount(tensor) * size, `tensor '${tensor.name}'`)
}

/** Decodes the bytes `tensorBytes` read into f32 values. */
export function decodeFloats(tensor: TensorInfo, bytes: Uint8Array): Float32Array {
  if (tensor.dtype === F32) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
  const halves = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
  if (tensor.dtype === BF16) {
    const bits = new Uint32Array(halves.length)
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i]! << 16
    return new Float32Array(bits.buffer)
  }
  return Float32Array.from(halves, fromHalf)
}

/** An IEEE half-precision value's bits as a number (subnormals, infinities and NaN included). */
export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exponent = (bits >>> 10) & 0x1f
  const mantissa = bits & 0x3ff
  if (exponent === 0) return sign * mantissa * 2 ** -24
  if (exponent === 31) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}
