import { compileShim, cstr, functionAddress as fn, type Calls } from '@cy/native'
import { dlopen, JSCallback, ptr, toArrayBuffer, type Pointer } from 'bun:ffi'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { PREVIEW, SD_CANCEL_ALL, SD_CANCEL_RESET, SD_SHIM_SYMBOLS, SD_SYMBOLS } from './sd-symbols.ts'

const SHIM_SOURCE = join(import.meta.dir, 'sd-shim.c')

/** Pixels, row-major, `channels` bytes each (RGB from the library; 1 for a mask). */
export interface NativeImage {
  width: number
  height: number
  channels: number
  data: Uint8Array
}

export interface ContextOptions {
  /** A single-file checkpoint; or its parts below. */
  modelPath?: string
  clipL?: string
  clipG?: string
  diffusionModel?: string
  vae?: string
  taesd?: string
  /** Always positive: the library does not resolve 0 to the core count. */
  threads: number
  flashAttention: boolean
  /** Keep the weights in RAM and move them to the GPU as needed (sd-cli's --offload-to-cpu). */
  offloadToCpu: boolean
  keepClipOnCpu: boolean
  keepVaeOnCpu: boolean
  /** The TAESD decodes previews only, the full VAE the images (sd-cli's --taesd-preview-only). */
  taePreviewOnly: boolean
  /** Load every weight now, not in the first generation. */
  eagerLoad: boolean
}

export interface GenerateOptions {
  prompt: string
  negativePrompt: string
  /** -1: the model's default. */
  clipSkip: number
  width: number
  height: number
  batchCount: number
  /** Image b of the batch uses seed + b. */
  seed: number
  /** Values of sampleMethod() / scheduler(); undefined: the model's default. */
  sampleMethod?: number
  scheduler?: number
  steps: number
  cfgScale: number
  /** pix2pix's image guidance; undefined: the library's default. */
  imageCfgScale?: number
  strength: number
  initImage?: NativeImage
  /** One channel, 255 = repaint. */
  mask?: NativeImage
  refImage?: NativeImage
  loras: Array<{ path: string; multiplier: number }>
  vaeTiling: boolean
}

export interface GenerateCallbacks {
  /** Every progress report on this thread: sampling steps, and tensor loading (tell them apart by `steps`). */
  onProgress?: (step: number, steps: number, seconds: number) => void
  /** Decoded previews, copied (the library frees its frames when the callback returns). */
  onPreview?: (step: number, frames: NativeImage[], noisy: boolean) => void
  previewMode?: keyof typeof PREVIEW
  /** Every this many steps. */
  previewInterval?: number
}

/** The library in `dir` whose name starts with `stem`, shortest name first (libx.so before libx.so.0). */
function find(dir: string, stem: string): string | undefined {
  const extension = process.platform === 'darwin' ? '.dylib' : process.platform === 'win32' ? '.dll' : '.so'
  const name = readdirSync(dir)
    .filter((n) => n.startsWith(stem) && n.includes(extension))
    .sort((a, b) => a.length - b.length)[0]
  return name ? join(dir, name) : undefined
}

/** A C string argument, or NULL for an absent one. */
const optionalString = (text: string | undefined, keep: unknown[]) => {
  if (text === undefined || text === '') return null
  const bytes = cstr(text)
  keep.push(bytes)
  return ptr(bytes)
}

/**
 * The typed wrapper over stable-diffusion.cpp: every pointer, C string, callback and image copy is made
 * here, so the engine above speaks in numbers, strings and typed arrays. One instance per thread (the
 * library's callbacks are process-wide and run on the thread that generates).
 */
export class SdNative {
  readonly calls: Calls<ReturnType<typeof dlopen<typeof SD_SYMBOLS>>['symbols']>
  readonly shim: ReturnType<typeof compileShim<typeof SD_SHIM_SYMBOLS>>
  /** sd_commit(): a short commit, or "unknown" for a build from sources without git. */
  readonly commit: string
  readonly version: string
  readonly #lib: ReturnType<typeof dlopen<typeof SD_SYMBOLS>>

  constructor(
    readonly libDir: string,
    headerDirs: string[],
    options: { verbose?: boolean } = {},
  ) {
    const file = find(libDir, 'libstable-diffusion')
    if (!file) throw new Error(`No libstable-diffusion shared library in ${libDir}`)
    this.#lib = dlopen(file, SD_SYMBOLS)
    this.calls = this.#lib.symbols as unknown as typeof this.calls
    this.shim = compileShim(SHIM_SOURCE, headerDirs, SD_SHIM_SYMBOLS)
    this.shim.symbols.cy_sd_set_logs(fn(this.#lib.symbols.sd_set_log_callback), options.verbose ? 1 : 0)
    this.#quietProgress()
    this.commit = String(this.calls.sd_commit())
    this.version = String(this.calls.sd_version())
  }

  get systemInfo(): string {
    return String(this.calls.sd_get_system_info()).trim()
  }

  /** Loads a model (with eagerLoad, all of its weights); null when the library refuses it (the reason is in its log). */
  newContext(options: ContextOptions): Pointer | null {
    const s = this.shim.symbols
    const keep: unknown[] = []
    const params = s.cy_sd_ctx_params_new(fn(this.calls.sd_ctx_params_init))
    if (!params) throw new Error('Out of memory for the context parameters')
    try {
      const str = (text: string | undefined) => optionalString(text, keep)
      s.cy_sd_ctx_set_paths(params, str(options.modelPath), str(options.clipL), str(options.clipG), str(options.diffusionModel), str(options.vae), str(options.taesd))
      s.cy_sd_ctx_set_options(params, options.threads, options.flashAttention ? 1 : 0, options.eagerLoad ? 1 : 0, options.taePreviewOnly ? 1 : 0)
      // The assignment specs sd-cli builds from --offload-to-cpu, --clip-on-cpu and --vae-on-cpu.
      const backend = [options.keepClipOnCpu ? 'te=cpu' : '', options.keepVaeOnCpu ? 'vae=cpu' : ''].filter(Boolean).join(',')
      s.cy_sd_ctx_set_backends(params, str(backend), str(options.offloadToCpu ? '*=cpu' : undefined))
      return s.cy_sd_new_ctx(fn(this.calls.new_sd_ctx), params)
    } finally {
      s.cy_sd_ctx_params_free(params)
    }
  }

  freeContext(context: Pointer): void {
    this.calls.free_sd_ctx(context)
  }

  /** Asks a running generation to stop (an atomic flag: safe from any thread), within a sampling step. */
  cancel(context: Pointer): void {
    this.calls.sd_cancel_generation(context, SD_CANCEL_ALL)
  }

  /** The enum value of a sampler name; undefined when the library has none of that name. */
  sampleMethod(name: string): number | undefined {
    const value = this.calls.str_to_sample_method(cstr(name))
    return value === this.#noSampleMethod ? undefined : value
  }

  scheduler(name: string): number | undefined {
    const value = this.calls.str_to_scheduler(cstr(name))
    return value === this.#noScheduler ? undefined : value
  }

  /** Every sampler name the library knows, in its order. */
  sampleMethodNames(): string[] {
    return this.#names((i) => this.calls.sd_sample_method_name(i))
  }

  schedulerNames(): string[] {
    return this.#names((i) => this.calls.sd_scheduler_name(i))
  }

  defaultSampleMethodName(context: Pointer): string {
    return String(this.calls.sd_sample_method_name(this.calls.sd_get_default_sample_method(context)))
  }

  defaultSchedulerName(context: Pointer, sampleMethod: number): string {
    return String(this.calls.sd_scheduler_name(this.calls.sd_get_default_scheduler(context, sampleMethod)))
  }

  /**
   * Runs generate_image (blocking this thread; the callbacks run on it meanwhile). Returns the images,
   * copied out of the library's memory; null when the library failed (or was cancelled before any image).
   */
  generate(context: Pointer, options: GenerateOptions, callbacks: GenerateCallbacks = {}): NativeImage[] | null {
    const s = this.shim.symbols
    const c = this.calls
    // Every buffer the parameters point at stays referenced here until generate_image returns.
    const keep: unknown[] = []
    const str = (text: string) => {
      const bytes = cstr(text)
      keep.push(bytes)
      return ptr(bytes)
    }
    const gen = s.cy_sd_gen_params_new(fn(c.sd_img_gen_params_init))
    if (!gen) throw new Error('Out of memory for the generation parameters')
    const progress = callbacks.onProgress
      ? new JSCallback((step: number, steps: number, seconds: number) => callbacks.onProgress!(step, steps, seconds), {
          args: ['i32', 'i32', 'f32', 'ptr'],
          returns: 'void',
        })
      : null
    const preview = callbacks.onPreview
      ? new JSCallback((step: number, count: number, frames: Pointer, noisy: boolean) => callbacks.onPreview!(step, this.#copyImages(frames, count), noisy), {
          args: ['i32', 'i32', 'ptr', 'bool', 'ptr'],
          returns: 'void',
        })
      : null
    const out = new BigUint64Array(1)
    try {
      s.cy_sd_gen_set_prompts(gen, str(options.prompt), str(options.negativePrompt), options.clipSkip)
      s.cy_sd_gen_set_size(gen, options.width, options.height, options.batchCount, BigInt(options.seed))
      s.cy_sd_gen_set_sampling(
        gen,
        options.sampleMethod ?? this.#noSampleMethod,
        options.scheduler ?? this.#noScheduler,
        options.steps,
        options.cfgScale,
        options.imageCfgScale ?? -1,
        options.strength,
      )
      const pixels = (image: NativeImage) => {
        keep.push(image.data)
        return ptr(image.data)
      }
      if (options.initImage) s.cy_sd_gen_set_init_image(gen, options.initImage.width, options.initImage.height, options.initImage.channels, pixels(options.initImage))
      if (options.mask) s.cy_sd_gen_set_mask(gen, options.mask.width, options.mask.height, pixels(options.mask))
      if (options.refImage) s.cy_sd_gen_set_ref_image(gen, options.refImage.width, options.refImage.height, options.refImage.channels, pixels(options.refImage))
      if (options.loras.length > 0) {
        if (!s.cy_sd_gen_set_lora_count(gen, options.loras.length)) throw new Error('Out of memory for the LoRA list')
        options.loras.forEach((lora, i) => s.cy_sd_gen_set_lora(gen, i, str(lora.path), lora.multiplier))
      }
      s.cy_sd_gen_set_vae_tiling(gen, options.vaeTiling ? 1 : 0)
      if (progress) c.sd_set_progress_callback(progress.ptr, null)
      const mode = preview ? PREVIEW[callbacks.previewMode ?? 'proj'] : PREVIEW.none
      c.sd_set_preview_callback(preview?.ptr ?? null, mode, Math.max(1, callbacks.previewInterval ?? 1), true, false, null)
      // A cancel left over from an earlier call (one that ended before the flag was read) must not stop this one.
      c.sd_cancel_generation(context, SD_CANCEL_RESET)
      const count = s.cy_sd_generate(fn(c.generate_image), context, gen, ptr(out))
      const images = Number(out[0]) as unknown as Pointer
      if (count < 0 || !images) return null
      try {
        return this.#copyImages(images, count)
      } finally {
        c.free_sd_images(images, count)
      }
    } finally {
      // The callbacks are process-wide: none may point at a closed JSCallback.
      this.#quietProgress()
      c.sd_set_preview_callback(null, PREVIEW.none, 1, true, false, null)
      progress?.close()
      preview?.close()
      s.cy_sd_gen_params_free(gen)
    }
  }

  #quietProgress(): void {
    this.shim.symbols.cy_sd_quiet_progress(fn(this.calls.sd_set_progress_callback))
  }

  /** Copies `count` images out of the library's memory (it frees them after). */
  #copyImages(images: Pointer, count: number): NativeImage[] {
    const info = new Uint32Array(3)
    const copies: NativeImage[] = []
    for (let i = 0; i < count; i++) {
      const data = this.shim.symbols.cy_sd_image_at(images, i, ptr(info))
      const [width, height, channels] = [info[0]!, info[1]!, info[2]!]
      if (!data) continue
      copies.push({ width, height, channels, data: new Uint8Array(toArrayBuffer(data, 0, width * height * channels).slice(0)) })
    }
    return copies
  }

  /** The value the name lookups return for "none": their enum's COUNT. */
  get #noSampleMethod(): number {
    return this.calls.str_to_sample_method(cstr(''))
  }

  get #noScheduler(): number {
    return this.calls.str_to_scheduler(cstr(''))
  }

  #names(name: (index: number) => unknown): string[] {
    const none = String(name(1 << 20))
    const names: string[] = []
    for (let i = 0; ; i++) {
      const text = String(name(i))
      if (text === none) return names
      names.push(text)
    }
  }
}
