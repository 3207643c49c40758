import type { InferenceSession, Tensor } from 'onnxruntime-node'
import { OnnxFeedError } from './onnx-feed-error.ts'
import { onnxRuntime } from './onnx-runtime.ts'

/** Data for one input; converted to the dtype the graph declares (a typed array already in it is used as is). */
export type OnnxFeedData = ArrayLike<number> | Float32Array | Int32Array | BigInt64Array

export interface OnnxFeedInput {
  data: OnnxFeedData
  dims: readonly number[]
}

type NumberArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
type NumberArrayConstructor = { new (length: number): NumberArray }

const NUMBER_ARRAYS: Partial<Record<Tensor.Type, NumberArrayConstructor>> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  bool: Uint8Array,
}
const INTEGER_TYPES = new Set<Tensor.Type>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool'])

/** The session's tensor inputs, name and metadata, in graph order. */
function tensorInputs(session: InferenceSession): InferenceSession.TensorValueMetadata[] {
  return session.inputMetadata.map((meta) => {
    if (!meta.isTensor) throw new OnnxFeedError(`input '${meta.name}' is not a tensor (sequences and maps are not supported)`)
    return meta
  })
}

/**
 * The graph's input names in order, for models whose exports name them differently (FunASR's
 * `speech, speech_lengths, language, textnorm` against sherpa-onnx's `x, x_length, language, text_norm`):
 * sherpa-onnx binds SenseVoice's inputs by position. With `count`, a graph with another number of inputs is an error.
 */
export function inputsByPosition(session: InferenceSession, count?: number): string[] {
  const names = tensorInputs(session).map((meta) => meta.name)
  if (count !== undefined && names.length !== count) {
    throw new OnnxFeedError(`the graph has ${names.length} inputs (${names.join(', ')}), ${count} expected`)
  }
  return names
}

/**
 * One `ort.Tensor` per graph input, each in the dtype `session.inputMetadata` declares (int64 as
 * BigInt64Array, int32 as Int32Array...). Every graph input must be given, and nothing else.
 */
export function feedsFor(session: InferenceSession, inputs: Record<string, OnnxFeedInput>): Record<string, Tensor> {
  const ort = onnxRuntime()
  const metas = tensorInputs(session)
  const known = new Set(metas.map((meta) => meta.name))
  const graphInputs = metas.map((meta) => meta.name).join(', ')
  for (const name of Object.keys(inputs)) {
    if (!known.has(name)) throw new OnnxFeedError(`'${name}' is not an input of this graph (its inputs: ${graphInputs})`)
  }
  const feeds: Record<string, Tensor> = {}
  for (const meta of metas) {
    const input = inputs[meta.name]
    if (input === undefined) throw new OnnxFeedError(`the graph's input '${meta.name}' was not given (its inputs: ${graphInputs})`)
    checkDims(meta, input)
    feeds[meta.name] = new ort.Tensor(meta.type, convert(meta, input.data) as Tensor.DataType, [...input.dims])
  }
  return feeds
}

function checkDims(meta: InferenceSession.TensorValueMetadata, input: OnnxFeedInput): void {
  const elements = input.dims.reduce((product, dim) => product * dim, 1)
  if (input.dims.some((dim) => !Number.isInteger(dim) || dim < 0) || elements !== input.data.length) {
    throw new OnnxFeedError(`input '${meta.name}': dims [${input.dims.join(', ')}] do not fit its ${input.data.length} values`)
  }
  // An empty shape means the graph did not declare one; a symbolic dimension (a string) takes any size.
  if (meta.shape.length === 0) return
  const fits = meta.shape.length === input.dims.length && meta.shape.every((dim, i) => typeof dim !== 'number' || dim < 0 || dim === input.dims[i])
  if (!fits) throw new OnnxFeedError(`input '${meta.name}': dims [${input.dims.join(', ')}] do not match the graph's [${meta.shape.join(', ')}]`)
}

function convert(meta: InferenceSession.TensorValueMetadata, data: OnnxFeedData): NumberArray | BigInt64Array | BigUint64Array {
  const { type, name } = meta
  if (type === 'int64' || type === 'uint64') {
    const Target = type === 'int64' ? BigInt64Array : BigUint64Array
    if (data instanceof Target) return data
    const out = new Target(data.length)
    for (let i = 0; i < data.length; i++) out[i] = BigInt(integer(name, data[i] as number | bigint))
    return out
  }
  const Target = NUMBER_ARRAYS[type]
  if (Target === undefined) throw new OnnxFeedError(`input '${name}' has dtype ${type}, which @cy/onnx cannot build yet`)
  // Already in the graph's dtype: handed over as is (the caller's buffer, no copy).
  if (data instanceof Target && type !== 'bool') return data
  const out = new Target(data.length)
  const integral = INTEGER_TYPES.has(type)
  for (let i = 0; i < data.length; i++) {
    const value = data[i] as number | bigint
    out[i] = integral ? integer(name, value) : Number(value)
  }
  return out
}

function integer(name: string, value: number | bigint): number {
  const number = Number(value)
  if (!Number.isInteger(number)) throw new OnnxFeedError(`input '${name}' is an integer tensor, but was given ${String(value)}`)
  return number
}
