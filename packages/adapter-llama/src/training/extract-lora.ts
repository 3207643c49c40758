import { encodeGguf, readGguf, withFile, type FileWindow, type MetadataValue, type TensorIndex, type TensorSpec } from '@cy/native'
import { writeFile } from 'node:fs/promises'
import { loraFactors } from './lora-factors.ts'
import { LoraExtractionError } from './lora-extraction-error.ts'
import type { TruncatedSvdOptions } from './truncated-svd.ts'
import { decodeFloats, describeType, isFloatTensor, tensorBytes } from './tensor-values.ts'

// llama.cpp gives a model without output.weight its token_embd.weight as the output matrix, under the same name,
// so the embedding's pair (laid out for row lookup) would be multiplied at the output too, where its shapes abort ggml.
const TIED_EMBEDDING = 'the token embedding doubles as the output matrix (no output.weight): llama.cpp would apply its pair at both, and cannot'

export interface ExtractLoraOptions {
  /** The GGUF the model was fine-tuned from. */
  base: string
  /** The fine-tuned GGUF (same architecture, same tensors and shapes). */
  trained: string
  /** Substrings of the tensor names to extract (default: every 2-D tensor that changed). */
  targets?: readonly string[]
  /** Rank r of each pair (a tensor smaller than r gets its own full rank). */
  rank: number
  /** `adapter.lora.alpha`: llama.cpp applies each pair at scale · alpha / r, and the pairs are scaled to match. */
  alpha: number
  /** Where the adapter GGUF is written. */
  output: string
  /** `general.name` of the adapter (default: the trained model's name plus `-lora`). */
  name?: string
  svd?: TruncatedSvdOptions
}

export interface ExtractedLoraTensor {
  name: string
  rank: number
  /** ‖ΔW − B·A‖_F / ‖ΔW‖_F of the pair as written (0: exact). */
  relativeError: number
}

export interface ExtractLoraResult {
  tensors: ExtractedLoraTensor[]
  maxRelativeError: number
  /** Tensors that changed but a LoRA cannot carry (not matrices: norms, biases), so the adapter leaves them out. */
  skipped: Array<{ name: string; reason: string }>
}

/**
 * Writes a LoRA adapter GGUF (as `llama_adapter_lora_init` reads it) holding each changed tensor's ΔW = W' − W
 * at rank `rank`. Pure but CPU-bound for seconds on real models (each matrix's SVD runs synchronously between
 * file reads): call it where blocking is fine, in the training engine's own process or a worker.
 */
export async function extractLora(options: ExtractLoraOptions): Promise<ExtractLoraResult> {
  const { rank, alpha, targets } = options
  if (!Number.isInteger(rank) || rank < 1) throw new LoraExtractionError(`rank must be a positive integer, got ${rank}`)
  if (!Number.isFinite(alpha) || alpha <= 0) throw new LoraExtractionError(`alpha must be a positive number, got ${alpha}`)
  if (targets && (targets.length === 0 || targets.some((target) => typeof target !== 'string' || target === ''))) {
    throw new LoraExtractionError('targets must be non-empty tensor-name substrings')
  }

  return withFile(options.base, (baseFile) =>
    withFile(options.trained, async (trainedFile) => {
      const base = await readGgufIndex(baseFile, options.base)
      const trained = await readGgufIndex(trainedFile, options.trained)
      const architecture = base.metadata['general.architecture']
      if (!architecture) throw new LoraExtractionError(`${options.base} has no general.architecture`)
      if (trained.metadata['general.architecture'] !== architecture) {
        throw new LoraExtractionError(`${options.trained} is a '${trained.metadata['general.architecture']}' model, the base a '${architecture}' one`)
      }
      const trainedTensors = new Map(trained.tensors.map((tensor) => [tensor.name, tensor]))
      const chosen = base.tensors.filter((tensor) => !targets || targets.some((target) => tensor.name.includes(target)))
      const unmatched = targets?.filter((target) => !base.tensors.some((tensor) => tensor.name.includes(target))) ?? []
      if (unmatched.length) throw new LoraExtractionError(`no tensor of the base model matches the target(s) ${unmatched.join(', ')}`)

      const tied = !base.tensors.some((tensor) => tensor.name === 'output.weight')
      const written: TensorSpec[] = []
      const result: ExtractLoraResult = { tensors: [], maxRelativeError: 0, skipped: [] }
      for (const tensor of chosen) {
        const after = trainedTensors.get(tensor.name)
        if (!after) throw new LoraExtractionError(`${options.trained} has no tensor '${tensor.name}'`)
        if (JSON.stringify(after.shape) !== JSON.stringify(tensor.shape)) {
          throw new LoraExtractionError(`'${tensor.name}' is ${after.shape?.join('×')} in the trained model, ${tensor.shape?.join('×')} in the base`)
        }
        const matrix = tensor.shape?.length === 2
        for (const [info, path] of [[tensor, options.base], [after, options.trained]] as const) {
          if (matrix && !isFloatTensor(info)) {
            throw new LoraExtractionError(`'${info.name}' in ${path} is ${describeType(info.dtype)} (quantized): LoRA extraction reads f32, f16 and bf16 tensors only; extract from an unquantized base and trained model`)
          }
        }
        if (!isFloatTensor(tensor) || !isFloatTensor(after)) continue
        const before = decodeFloats(tensor, await tensorBytes(baseFile, base, tensor))
        const now = decodeFloats(after, await tensorBytes(trainedFile, trained, after))
        const delta = new Float32Array(before.length)
        let changed = false
        for (let i = 0; i < delta.length; i++) {
          delta[i] = now[i]! - before[i]!
          if (delta[i] !== 0) changed = true
        }
        if (!changed) {
          // A weight asked for by name that did not move is worth saying (llama.cpp gives attn_k and attn_v no gradient).
          if (targets && matrix) result.skipped.push({ name: tensor.name, reason: UNCHANGED })
          continue
        }
        if (!matrix) {
          result.skipped.push({ name: tensor.name, reason: `not a matrix (${tensor.shape?.length ?? 0}-D): a LoRA adapter holds 2-D tensors only` })
          continue
        }
        if (tied && tensor.name === 'token_embd.weight') {
          result.skipped.push({ name: tensor.name, reason: TIED_EMBEDDING })
          continue
        }
        const [rows, cols] = tensor.shape as [number, number]
        const factors = loraFactors(tensor.name, delta, rows, cols, rank, alpha, options.svd)
        written.push(...factors.tensors)
        result.tensors.push({ name: tensor.name, rank: factors.rank, relativeError: factors.relativeError })
        result.maxRelativeError = Math.max(result.maxRelativeError, factors.relativeError)
      }
      if (!result.tensors.length) {
        throw new LoraExtractionError(`no ${targets ? 'targeted ' : ''}matrix differs between ${options.base} and ${options.trained}: there is nothing to extract`)
      }

      const metadata: Record<string, MetadataValue> = {
        'general.architecture': { type: 'string', value: architecture },
        'general.type': { type: 'string', value: 'adapter' },
        'general.name': { type: 'string', value: options.name ?? `${trained.metadata['general.name'] ?? 'model'}-lora` },
        'adapter.type': { type: 'string', value: 'lora' },
        'adapter.lora.alpha': { type: 'f32', value: alpha },
      }
      await writeFile(options.output, encodeGguf(metadata, written))
      return result
    }),
  )
}

const UNCHANGED =
  "unchanged by training: llama.cpp's training graph reads K and V back from its KV cache, which passes no gradient to attn_k and attn_v (any other weight: its learning rate or steps were too small to move it)"

async function readGgufIndex(file: FileWindow, path: string): Promise<TensorIndex> {
  const magic = new TextDecoder().decode(await file.read(0, Math.min(4, file.size), 'magic'))
  if (magic !== 'GGUF') throw new LoraExtractionError(`${path} is not a GGUF file`)
  return readGguf(file)
}
