import { BadRequestError, CancelledError, OutputChunk, ProviderError, type WorkerSink } from '@cy/core'
import { encodeImage } from '@cy/image'
import type { Pointer } from 'bun:ffi'
import { SdNative, type NativeImage } from '../native/sd-native.ts'
import { loadClipTokenizer, type ClipTokenizer } from '../tokenizer/index.ts'
import { prepareEdit } from './edit-images.ts'
import type { EngineOptions, GenerateRequest } from './generate-args.ts'
import { imageTokens } from './image-tokens.ts'
import { rawPreviewChunk } from './raw-preview.ts'
import { previewSteps, samplingSteps } from './sampling-progress.ts'

/** One stable-diffusion.cpp context with its weights loaded, generating one request at a time on this thread. */
export class SdEngine {
  readonly native: SdNative
  readonly context: Pointer
  readonly samplers: string[]
  readonly schedulers: string[]
  #turn: Promise<void> = Promise.resolve()

  /** Loads the context (all of its weights) and the CLIP tokenizer that counts prompt tokens for `usage`. */
  static async load(options: EngineOptions): Promise<SdEngine> {
    return new SdEngine(options, await loadClipTokenizer(options.mergesFile))
  }

  private constructor(
    readonly options: EngineOptions,
    readonly tokenizer: ClipTokenizer,
  ) {
    if (!(options.context.threads > 0)) throw new ProviderError('stable-diffusion.cpp needs a positive thread count')
    this.native = new SdNative(options.libDir, options.headerDirs)
    // eager_load: every weight is read now, at model load, not in the first request.
    const context = this.native.newContext({ ...options.context, eagerLoad: true })
    const file = options.context.modelPath ?? options.context.diffusionModel
    if (!context) throw new ProviderError(`stable-diffusion.cpp could not load ${file}: it is not a model it supports, a part is missing, or it is damaged (see its log above)`)
    this.context = context
    this.samplers = this.native.sampleMethodNames()
    this.schedulers = this.native.schedulerNames()
  }

  /** Looks up a sampler or scheduler name; an unknown one is a 400 listing the valid ones. */
  #named(kind: 'sampler' | 'scheduler', name: string | undefined): number | undefined {
    if (name === undefined) return undefined
    const value = kind === 'sampler' ? this.native.sampleMethod(name) : this.native.scheduler(name)
    if (value !== undefined) return value
    const valid = kind === 'sampler' ? this.samplers : this.schedulers
    throw new BadRequestError(`Unknown ${kind} '${name}'; use one of ${valid.join(', ')}`, { param: kind, code: 'invalid_value' })
  }

  /**
   * Generates `n` images in one batch (blocking this thread meanwhile): progress and previews go to
   * `out` as the sampler reports them, then each image, encoded, and the usage. A cancel (the call's
   * shared flag, read at every progress report) stops the library within a sampling step.
   */
  async generate(request: GenerateRequest, out: WorkerSink): Promise<void> {
    // One generation at a time on a context (the library's callbacks are process-wide too): a request that
    // arrives meanwhile (the server sends no more than `parallel`, but a caller may) waits its turn.
    const previous = this.#turn
    let release!: () => void
    this.#turn = new Promise((resolve) => (release = resolve))
    try {
      await previous
      if (out.aborted) throw new CancelledError('The image generation was cancelled')
      await this.#generate(request, out)
    } finally {
      release()
    }
  }

  async #generate(request: GenerateRequest, out: WorkerSink): Promise<void> {
    const sampleMethod = this.#named('sampler', request.sampler)
    const scheduler = this.#named('scheduler', request.scheduler)
    // Tokenized first: a prompt weight the library's number parser rejects (`(a:.)`) would abort its process.
    const promptTokens = this.tokenizer.countTokens(request.prompt)
    if (request.negativePrompt) this.tokenizer.countTokens(request.negativePrompt, 'negative_prompt')
    const edit = await prepareEdit(request, this.options.variant)
    if (out.aborted) throw new CancelledError('The image generation was cancelled')
    const steps = samplingSteps(request.steps, request.strength, edit.initImage !== undefined)
    const previewAt = previewSteps(steps, request.partialImages)
    let batch = -1
    // Said before the blocking call (it reaches the relay all the same): the prompt's encoding reports nothing.
    out.push(OutputChunk.progress(0, 'encoding'))
    // Previews are counted per image of the batch (OpenAI's partial_image_index).
    let previewBatch = -1
    let partials = 0
    const images = this.native.generate(
      this.context,
      {
        prompt: request.prompt,
        negativePrompt: request.negativePrompt,
        clipSkip: request.clipSkip,
        width: request.width,
        height: request.height,
        batchCount: request.n,
        seed: request.seed,
        ...(sampleMethod === undefined ? {} : { sampleMethod }),
        ...(scheduler === undefined ? {} : { scheduler }),
        steps: request.steps,
        cfgScale: request.cfgScale,
        strength: request.strength,
        ...edit,
        loras: request.loras,
        vaeTiling: request.vaeTiling,
      },
      {
        onProgress: (step, total) => {
          // Called on this thread between steps: the one place a cancel can reach a running sampler.
          if (out.aborted) return this.native.cancel(this.context)
          if (total !== steps) return
          if (step === 0) return void batch++
          out.push(OutputChunk.progress((Math.max(batch, 0) * steps + step) / (request.n * steps), 'sampling', { step, steps }))
          // Every latent is sampled before any is decoded: after the last step of the last image, the VAE works silently.
          if (step === steps && batch === request.n - 1) out.push(OutputChunk.progress(1, 'decoding'))
        },
        ...(request.partialImages > 0
          ? {
              previewMode: this.options.hasTaesd ? ('tae' as const) : ('proj' as const),
              previewInterval: Math.max(1, Math.floor(steps / (request.partialImages + 1))),
              onPreview: (step: number, frames: NativeImage[]) => {
                if (out.aborted || !previewAt.has(step)) return
                if (batch !== previewBatch) [previewBatch, partials] = [batch, 0]
                for (const frame of frames) if (partials < request.partialImages) out.push(rawPreviewChunk(Math.max(batch, 0), partials++, frame))
              },
            }
          : {}),
      },
    )
    if (out.aborted) throw new CancelledError('The image generation was cancelled')
    if (!images || images.length === 0) throw new ProviderError('stable-diffusion.cpp failed to generate the image (see its log)')
    const format = request.outputFormat
    for (const [index, image] of images.entries()) {
      const encoded = await encodeImage({ width: image.width, height: image.height, channels: image.channels as 3, data: image.data }, format, request.outputCompression)
      out.push(OutputChunk.image(encoded.data, { index, mimeType: encoded.mimeType, revisedPrompt: request.prompt }))
    }
    const first = images[0]!
    out.push(OutputChunk.usage(promptTokens, images.length * imageTokens(first.width, first.height)))
  }

  dispose(): void {
    this.native.freeContext(this.context)
  }
}
