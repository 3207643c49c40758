import { BadRequestError, type ImageRequest } from '@cy/core'
import type { ImageFormat, ImageLimits } from '@cy/image'
import type { ContextOptions } from '../native/sd-native.ts'
import type { SdxlOptions } from '../sdxl-options.ts'
import { parseImageSize } from './image-size.ts'
import { resolveLoras } from './lora-files.ts'
import { extractLoraTags } from './lora-tags.ts'
import { qualitySteps } from './quality-steps.ts'
import { randomSeed } from './random-seed.ts'

/** What an engine Worker loads: the library, and one context. */
export interface EngineOptions {
  libDir: string
  headerDirs: string[]
  context: ContextOptions
  /** The checkpoint's variant (detected): an inpaint UNet takes init + mask, pix2pix a reference image. */
  variant?: string
  /** A TAESD is there for previews. */
  hasTaesd: boolean
  /** stable-diffusion.cpp's clip_merges.hpp, for the CLIP tokenizer. */
  mergesFile: string
}

/** One generation, as the main thread sends it (cheap checks done; images still encoded). */
export interface GenerateRequest {
  /** Without its LoRA tags (what the library sees and `revised_prompt` says). */
  prompt: string
  negativePrompt: string
  width: number
  height: number
  /** Images, made in one batch: image b uses seed + b. */
  n: number
  seed: number
  steps: number
  cfgScale: number
  /** Names as the library spells them (checked against its lists in the Worker); undefined: the model's default. */
  sampler?: string
  scheduler?: string
  /** -1: the model's default. */
  clipSkip: number
  strength: number
  loras: Array<{ path: string; multiplier: number }>
  vaeTiling: boolean
  outputFormat: ImageFormat
  outputCompression: number
  /** Previews to stream while sampling (0-3). */
  partialImages: number
  /** For an edit: the uploaded images (the first is edited) and mask, encoded; decoded in the engine. */
  images?: Uint8Array[]
  mask?: Uint8Array
  imageLimits: ImageLimits
}

/** To an engine process: the uploads as files the parent wrote (and removes once the call is over). */
export interface UploadedGenerateRequest extends Omit<GenerateRequest, 'images' | 'mask'> {
  imagePaths?: string[]
  maskPath?: string
}

const one = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value)

/**
 * Maps an OpenAI image request (and this server's extensions) onto a generation, with the model's
 * defaults; every refusal is a 400 naming its field. Runs on the main thread: nothing here is heavy
 * (sampler names are checked where the library is, in the engine).
 */
export function generateArgs(request: ImageRequest, options: SdxlOptions): GenerateRequest {
  if (request.background === 'transparent') {
    throw new BadRequestError("background 'transparent' is not possible: stable-diffusion models make no alpha channel. Use 'opaque' or 'auto'", { param: 'background', code: 'invalid_value' })
  }
  const size = parseImageSize(request.size, options.size, options.maxSize)
  const tags = extractLoraTags(request.prompt)
  if (tags.invalid.length > 0) throw new BadRequestError(`Invalid LoRA tag ${tags.invalid[0]}: write <lora:name:weight> with a number`, { param: 'prompt', code: 'invalid_value' })
  const loras = resolveLoras([...tags.loras, ...(request.loras ?? []).map((l) => ({ name: l.name, weight: l.weight ?? 1 }))], options.lorasDir)
  const sampler = request.sampler ?? options.sampler
  const scheduler = request.scheduler ?? options.scheduler
  const images = request.image?.map((file) => file.bytes)
  return {
    prompt: tags.prompt,
    negativePrompt: request.negative_prompt ?? '',
    ...size,
    n: one(request.n) ?? 1,
    seed: request.seed ?? randomSeed(),
    steps: request.steps ?? qualitySteps(request.quality, options.steps),
    cfgScale: request.cfg_scale ?? options.cfgScale,
    ...(sampler ? { sampler } : {}),
    ...(scheduler ? { scheduler } : {}),
    clipSkip: request.clip_skip ?? -1,
    strength: request.strength ?? 0.75,
    loras,
    vaeTiling: options.vaeTiling,
    outputFormat: one(request.output_format) ?? 'png',
    outputCompression: one(request.output_compression) ?? 100,
    partialImages: request.stream ? (one(request.partial_images) ?? 0) : 0,
    ...(images && images.length > 0 ? { images } : {}),
    ...(request.mask ? { mask: request.mask.bytes } : {}),
    imageLimits: { maxPixels: options.maxInputPixels, maxBytes: options.maxInputBytes },
  }
}
