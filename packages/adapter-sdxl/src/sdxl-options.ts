import { isolationOption, type Isolation } from '@cy/core'
import { integerOption } from '@cy/native'
import { availableParallelism } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { parseImageSize, type ImageSize } from './engine/image-size.ts'

/** Per-model options, from the model's `options` in the config (and the adapter's defaults). */
export interface SdxlOptions {
  /** libstable-diffusion, or its folder (else CY_SD_LIB, else a cached or new build). */
  libPath?: string
  /** CPU threads per context (default: the cores shared among `parallel`; never 0, which the library does not resolve). */
  threads: number
  /** Contexts, each a full copy of the weights generating on its own Worker (default 1). */
  parallel: number
  /** Decode the VAE in tiles: less memory for big images, slightly different pixels (default false). */
  vaeTiling: boolean
  flashAttention: boolean
  /** Keep the weights in RAM and move them to the GPU as needed. */
  offloadToCpu: boolean
  keepClipOnCpu: boolean
  keepVaeOnCpu: boolean
  /** The model's LoRA folder: the only place `loras` and `<lora:...>` names are looked up. */
  lorasDir?: string
  /** A TAESD decoder: streamed previews are decoded with it (only previews: the images use the full VAE). */
  taesd?: string
  vae?: string
  clipL?: string
  clipG?: string
  /** A separate UNet file (the model path may then be left out). */
  diffusionModel?: string
  /** Defaults for requests that leave them out. */
  steps: number
  cfgScale: number
  sampler?: string
  scheduler?: string
  size: ImageSize
  /** The largest side a request may ask for (default 2048). */
  maxSize: number
  /** Largest uploaded image for edits, in pixels (default 4096 × 4096) and bytes (default 32 MiB). */
  maxInputPixels: number
  maxInputBytes: number
  /** Requests that may wait for a context (the server's queue in front of the model; default 4 × parallel). */
  queue?: number
  /** Where the engine runs: a child process of its own (default), whose native crash takes only that model down, or Workers of the server's process. */
  isolation: Isolation
}

/** What the checkpoint says, for defaults (from the checkpoint detection; absent: SD 1.x-like). */
export interface ModelTraits {
  family?: string
  /** Distilled to few steps (Turbo, Lightning, LCM). */
  distilled?: boolean
}

const integer = (value: unknown, name: string, min: number) => integerOption(value, 'sdxl', name, min)

function numberOption(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isFinite(number) || number < min || number > max) throw new Error(`sdxl option '${name}' must be a number from ${min} to ${max}, not ${JSON.stringify(value)}`)
  return number
}

function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new Error(`sdxl option '${name}' must be true or false, not ${JSON.stringify(value)}`)
  return value
}

function stringOption(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') throw new Error(`sdxl option '${name}' must be a non-empty string, not ${JSON.stringify(value)}`)
  return value
}

/** The native size of each family: what `size: auto` makes. */
function familySize(family: string | undefined): ImageSize {
  if (family === 'sdxl') return { width: 1024, height: 1024 }
  if (family === 'sd2') return { width: 768, height: 768 }
  return { width: 512, height: 512 }
}

export const PATH_OPTIONS = ['lorasDir', 'taesd', 'vae', 'clipL', 'clipG', 'diffusionModel', 'libPath'] as const

/**
 * Reads the options; paths are relative to `baseDir` (the config file's folder). A distilled checkpoint
 * (Turbo, Lightning: detected from its name or metadata) defaults to 4 steps at cfg 1, others to 20 at 7.
 */
export function parseSdxlOptions(raw: Record<string, unknown> = {}, traits: ModelTraits = {}, baseDir = process.cwd()): SdxlOptions {
  const parallel = integer(raw.parallel, 'parallel', 1) ?? 1
  const maxSize = integer(raw.maxSize, 'maxSize', 64) ?? 2048
  const sizeText = stringOption(raw.size, 'size')
  let size = familySize(traits.family)
  if (sizeText && sizeText !== 'auto') {
    try {
      size = parseImageSize(sizeText, size, maxSize)
    } catch (error) {
      throw new Error(`sdxl option 'size': ${(error as Error).message}`)
    }
  }
  const options: SdxlOptions = {
    threads: integer(raw.threads, 'threads', 1) ?? Math.max(1, Math.floor(availableParallelism() / parallel)),
    parallel,
    vaeTiling: booleanOption(raw.vaeTiling, 'vaeTiling', false),
    flashAttention: booleanOption(raw.flashAttention, 'flashAttention', false),
    offloadToCpu: booleanOption(raw.offloadToCpu, 'offloadToCpu', false),
    keepClipOnCpu: booleanOption(raw.keepClipOnCpu, 'keepClipOnCpu', false),
    keepVaeOnCpu: booleanOption(raw.keepVaeOnCpu, 'keepVaeOnCpu', false),
    steps: integer(raw.steps, 'steps', 1) ?? (traits.distilled ? 4 : 20),
    cfgScale: numberOption(raw.cfgScale, 'cfgScale', 0, 50) ?? (traits.distilled ? 1 : 7),
    size,
    maxSize,
    maxInputPixels: integer(raw.maxInputPixels, 'maxInputPixels', 1) ?? 4096 * 4096,
    maxInputBytes: integer(raw.maxInputBytes, 'maxInputBytes', 1) ?? 32 * 1024 * 1024,
    isolation: isolationOption(raw.isolation, 'sdxl', 'process'),
  }
  for (const name of ['sampler', 'scheduler'] as const) {
    const value = stringOption(raw[name], name)
    if (value) options[name] = value
  }
  const queue = integer(raw.queue, 'queue', 0)
  if (queue !== undefined) options.queue = queue
  for (const name of PATH_OPTIONS) {
    const value = stringOption(raw[name], name)
    if (value) options[name] = isAbsolute(value) ? value : resolve(baseDir, value)
  }
  return options
}
