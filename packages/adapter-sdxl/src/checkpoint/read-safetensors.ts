import { type FileWindow, ModelFileError, type TensorIndex, type TensorInfo } from '@cy/native'

/** Real checkpoints' headers are a few hundred KB; past this the length field is garbage, not a header. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024

/** safetensors: an 8-byte little-endian header length, then that many bytes of JSON naming each tensor. */
export async function readSafetensors(file: FileWindow): Promise<TensorIndex> {
  if (file.size <= 8) throw new ModelFileError(`not a safetensors file: only ${file.size} bytes`)
  const length = new DataView((await file.read(0, 8, 'header length')).buffer).getBigUint64(0, true)
  if (length > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    throw new ModelFileError(`safetensors header length ${length} is over the ${MAX_SAFETENSORS_HEADER_BYTES}-byte cap`)
  }
  const headerLength = Number(length)
  if (headerLength < 2 || headerLength > file.size - 8) {
    throw new ModelFileError(`safetensors header length ${headerLength} does not fit the file (${file.size} bytes)`)
  }
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await file.read(8, headerLength, 'header')))
  } catch (error) {
    if (error instanceof ModelFileError) throw error
    throw new ModelFileError('safetensors header is not valid JSON')
  }
  if (!isRecord(header)) throw new ModelFileError('safetensors header is not a JSON object')
  const dataBytes = file.size - 8 - headerLength
  const tensors: TensorInfo[] = []
  const metadata: Record<string, string> = {}
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (isRecord(entry)) for (const [key, value] of Object.entries(entry)) if (typeof value === 'string') metadata[key] = value
      continue
    }
    tensors.push(tensorEntry(name, entry, dataBytes))
  }
  return { format: 'safetensors', tensors, metadata }
}

function tensorEntry(name: string, entry: unknown, dataBytes: number): TensorInfo {
  if (!isRecord(entry) || typeof entry.dtype !== 'string' || !Array.isArray(entry.shape) || !Array.isArray(entry.data_offsets)) {
    throw new ModelFileError(`safetensors entry '${name}' lacks dtype, shape or data_offsets`)
  }
  const shape = entry.shape
  if (!shape.every(isDimension)) throw new ModelFileError(`safetensors entry '${name}' has a bad shape`)
  const [begin, end] = entry.data_offsets
  if (!isDimension(begin) || !isDimension(end) || begin > end || end > dataBytes) {
    throw new ModelFileError(`safetensors entry '${name}' has data offsets outside the file`)
  }
  return { name, shape: shape as number[], dtype: entry.dtype }
}

function isDimension(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
