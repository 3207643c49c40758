import { isolationOption, type Isolation } from '@cy/core'
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
  /**
   * CPU threads (default: half the machine's cores, at least 1). ggml's threads meet at spinning barriers
   * many times a token, so one that another process preempts stalls the rest: leaving cores free lets a
   * loaded machine slow down gradually instead of collapsing.
   */
  threads: number
  /** Tokens per llama_decode (default 512). */
  batchSize: number
  /** Requests generated at once in one context (default 4). */
  parallel: number
  flashAttention: 'auto' | 'on' | 'off'
  /** Serve /v1/embeddings too (default true). */
  embeddings: boolean
  pooling: Pooling
  /**
   * Where llama.cpp runs: a child process of its own (default), so an abort in native code takes only this
   * model down (it is restarted), or a Worker thread of the server's process (tests, tiny models).
   */
  isolation: Isolation
  /** Milliseconds unloading waits for the engine to finish its step before stopping its Worker (default 10000). */
  disposeTimeout: number
  /** The folder of the model's LoRA adapters: a request's `adapter` names one of its `<name>.gguf` files, nothing else. */
  loraDir?: string
  /** The multimodal projector (`mmproj-*.gguf`) that lets the model read images in chat. */
  mmproj?: string
  /** A libmtmd (file or folder) to read it with (else CY_MTMD_LIB, else one built once from llama.cpp's sources). */
  mtmdLib?: string
}

const integer = (value: unknown, name: string, min: number) => integerOption(value, 'llama', name, min)

/** Half the cores, at least one (see `threads`). */
export const defaultThreads = (): number => Math.max(1, Math.floor(availableParallelism() / 2))

export function parseLlamaOptions(raw: Record<string, unknown> = {}): LlamaOptions {
  const flash = raw.flashAttention ?? 'auto'
  if (flash !== 'auto' && flash !== 'on' && flash !== 'off' && typeof flash !== 'boolean') throw new Error(`llama option 'flashAttention' must be auto, on or off`)
  const pooling = raw.pooling ?? 'mean'
  if (!['model', 'none', 'mean', 'cls', 'last'].includes(String(pooling))) throw new Error(`llama option 'pooling' must be model, none, mean, cls or last`)
  const options: LlamaOptions = {
    contextSize: integer(raw.contextSize, 'contextSize', 16),
    threads: integer(raw.threads, 'threads', 1) ?? defaultThreads(),
    batchSize: integer(raw.batchSize, 'batchSize', 1) ?? 512,
    parallel: integer(raw.parallel, 'parallel', 1) ?? 4,
    flashAttention: flash === true ? 'on' : flash === false ? 'off' : (flash as LlamaOptions['flashAttention']),
    embeddings: raw.embeddings !== false,
    pooling: pooling as Pooling,
    disposeTimeout: integer(raw.disposeTimeout, 'disposeTimeout', 0) ?? 10_000,
    isolation: isolationOption(raw.isolation, 'llama', 'process'),
  }
  const gpuLayers = integer(raw.gpuLayers, 'gpuLayers', 0)
  if (gpuLayers !== undefined) options.gpuLayers = gpuLayers
  if (typeof raw.libDir === 'string') options.libDir = raw.libDir
  for (const key of ['mmproj', 'mtmdLib', 'loraDir'] as const) {
    if (raw[key] === undefined || raw[key] === null) continue
    if (typeof raw[key] !== 'string' || raw[key] === '') throw new Error(`llama option '${key}' must be a file path`)
    options[key] = raw[key]
  }
  return options
}
