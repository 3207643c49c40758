import { integerOption } from '@cy/native'
import { availableParallelism } from 'node:os'
import type { Pooling } from './native/llama-native.ts'

/** Per-model options, from the model's `options` in the config (and the adapter's defaults). */
export interface LlamaOptions {
  /** Folder with libllama/libggml (else CY_LLAMA_LIB_DIR, else the @node-llama-cpp packages). */
  libDir?: string
  /** Tokens of context per sequence (default: 4096, or less if the model was trained on less); the cache holds this many for each of `parallel`. */
  contextSize: number | undefined
  /** Layers on the GPU (default: all when a GPU backend is present, else 0). */
  gpuLayers?: number
  /** CPU threads (default: the machine's cores). */
  threads: number
  /** Tokens per llama_decode (default 512). */
  batchSize: number
  /** Requests generated at once in one context (default 4). */
  parallel: number
  flashAttention: 'auto' | 'on' | 'off'
  /** Serve /v1/embeddings too (default true). */
  embeddings: boolean
  pooling: Pooling
}

const integer = (value: unknown, name: string, min: number) => integerOption(value, 'llama', name, min)

export function parseLlamaOptions(raw: Record<string, unknown> = {}): LlamaOptions {
  const flash = raw.flashAttention ?? 'auto'
  if (flash !== 'auto' && flash !== 'on' && flash !== 'off' && typeof flash !== 'boolean') throw new Error(`llama option 'flashAttention' must be auto, on or off`)
  const pooling = raw.pooling ?? 'mean'
  if (!['model', 'none', 'mean', 'cls', 'last'].includes(String(pooling))) throw new Error(`llama option 'pooling' must be model, none, mean, cls or last`)
  const options: LlamaOptions = {
    contextSize: integer(raw.contextSize, 'contextSize', 16),
    threads: integer(raw.threads, 'threads', 1) ?? availableParallelism(),
    batchSize: integer(raw.batchSize, 'batchSize', 1) ?? 512,
    parallel: integer(raw.parallel, 'parallel', 1) ?? 4,
    flashAttention: flash === true ? 'on' : flash === false ? 'off' : (flash as LlamaOptions['flashAttention']),
    embeddings: raw.embeddings !== false,
    pooling: pooling as Pooling,
  }
  const gpuLayers = integer(raw.gpuLayers, 'gpuLayers', 0)
  if (gpuLayers !== undefined) options.gpuLayers = gpuLayers
  if (typeof raw.libDir === 'string') options.libDir = raw.libDir
  return options
}
