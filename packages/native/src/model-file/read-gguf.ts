import { ModelFileError } from './model-file-error.ts'
import type { FileWindow } from './file-window.ts'
import { GgufValueType as ValueType } from './gguf-value-type.ts'
import { SequentialReader } from './sequential-reader.ts'
import type { TensorIndex, TensorInfo } from './tensor-index.ts'

// Caps past which a count or length is garbage rather than a model (sd.cpp's own reader caps keys at 4096 bytes).
const MAX_KEYS = 1_000_000
const MAX_TENSORS = 1_000_000
const MAX_STRING_BYTES = 64 * 1024 * 1024
const MAX_KEY_BYTES = 4096
const MAX_NAME_BYTES = 4096
const MAX_ARRAY_ITEMS = 100_000_000
const MAX_DIMS = 8
const MAX_DIMENSION = Number.MAX_SAFE_INTEGER
const DEFAULT_ALIGNMENT = 32

const FIXED_SIZE: Partial<Record<ValueType, number>> = {
  [ValueType.UINT8]: 1,
  [ValueType.INT8]: 1,
  [ValueType.BOOL]: 1,
  [ValueType.UINT16]: 2,
  [ValueType.INT16]: 2,
  [ValueType.UINT32]: 4,
  [ValueType.INT32]: 4,
  [ValueType.FLOAT32]: 4,
  [ValueType.UINT64]: 8,
  [ValueType.INT64]: 8,
  [ValueType.FLOAT64]: 8,
}

const decoder = new TextDecoder()

/** GGUF v2/v3: magic, version, counts, key/values (skipped but for strings), then each tensor's name, dims and type. */
export async function readGguf(file: FileWindow): Promise<TensorIndex> {
  const reader = new SequentialReader(file)
  reader.skip(4, 'magic')
  const version = await reader.u32('GGUF version')
  if (version !== 2 && version !== 3) throw new ModelFileError(`GGUF version ${version} is not supported (2 and 3 are)`)
  const tensorCount = await reader.u64('GGUF tensor count', MAX_TENSORS)
  const keyCount = await reader.u64('GGUF metadata key count', MAX_KEYS)
  const metadata: Record<string, string> = {}
  let alignment = DEFAULT_ALIGNMENT
  for (let i = 0; i < keyCount; i++) {
    const key = await readString(reader, 'metadata key', MAX_KEY_BYTES)
    const type = await reader.u32(`type of '${key}'`)
    if (type === ValueType.STRING) metadata[key] = await readString(reader, `value of '${key}'`, MAX_STRING_BYTES)
    else if (key === 'general.alignment' && type === ValueType.UINT32) alignment = await reader.u32(`value of '${key}'`)
    else await skipValue(reader, type, key, 0)
  }
  // ggml refuses any other alignment too.
  if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw new ModelFileError(`general.alignment ${alignment} is not a power of 2`)
  const tensors: TensorInfo[] = []
  const relativeOffsets: number[] = []
  for (let i = 0; i < tensorCount; i++) {
    const name = await readString(reader, 'tensor name', MAX_NAME_BYTES)
    const dimCount = await reader.u32(`dims of '${name}'`)
    if (dimCount > MAX_DIMS) throw new ModelFileError(`tensor '${name}' has ${dimCount} dimensions (at most ${MAX_DIMS})`)
    const ne: number[] = []
    for (let d = 0; d < dimCount; d++) ne.push(await reader.u64(`dimension of '${name}'`, MAX_DIMENSION))
    const type = await reader.u32(`type of '${name}'`)
    relativeOffsets.push(await reader.u64(`offset of '${name}'`, MAX_DIMENSION))
    // GGUF lists ggml's order (innermost first); TensorInfo keeps PyTorch's.
    tensors.push({ name, shape: ne.reverse(), dtype: String(type) })
  }
  // The data section starts at the next multiple of the alignment after the tensor infos.
  const dataStart = Math.ceil(reader.position / alignment) * alignment
  const dataOffsets = new Map(tensors.map((tensor, i) => [tensor.name, dataStart + relativeOffsets[i]!]))
  return { format: 'gguf', tensors, metadata, dataOffsets }
}

async function readString(reader: SequentialReader, what: string, max: number): Promise<string> {
  const length = await reader.u64(`length of ${what}`, max)
  return decoder.decode(await reader.bytes(length, what))
}

async function skipValue(reader: SequentialReader, type: number, key: string, depth: number): Promise<void> {
  const size = FIXED_SIZE[type as ValueType]
  if (size !== undefined) return reader.skip(size, `value of '${key}'`)
  if (type === ValueType.STRING) {
    reader.skip(await reader.u64(`length of a string in '${key}'`, MAX_STRING_BYTES), `a string in '${key}'`)
    return
  }
  if (type !== ValueType.ARRAY || depth > 4) throw new ModelFileError(`metadata '${key}' has an unknown value type ${type}`)
  const itemType = await reader.u32(`item type of '${key}'`)
  const count = await reader.u64(`item count of '${key}'`, MAX_ARRAY_ITEMS)
  const itemSize = FIXED_SIZE[itemType as ValueType]
  if (itemSize !== undefined) return reader.skip(itemSize * count, `items of '${key}'`)
  for (let i = 0; i < count; i++) await skipValue(reader, itemType, key, depth + 1)
}
