import { BadRequestError, CancelledError, OutputChunk, ProviderError, type WorkerSink } from '@cy/core'
import type { Pointer } from 'bun:ffi'
import { LlamaNative, type ContextOptions, type Pooling } from '../native/llama-native.ts'
import { checkTextFits, contextLengthExceeded, tooManyChoices } from '../prompt-limits.ts'
import { BatchScheduler } from './batch-scheduler.ts'
import type { EngineInfo, GenerateArgs, GenerateResult } from './generate-args.ts'
import { PromptTokenizer } from './prompt-tokenizer.ts'
import { samplerChain } from './sampler-chain.ts'
import { Sequence } from './sequence.ts'
import { checkLogitBias, checkTokenIds } from './vocabulary-checks.ts'
import { yieldToEventLoop } from './yield-to-event-loop.ts'
import { randomUUID } from 'node:crypto'
import { LoraCache } from '../lora/lora-cache.ts'
import type { MediaPrompt } from '../vision/media-prompt.ts'
import { VisionProjector } from '../vision/vision-projector.ts'
import { dataUriBytes } from '../vision/data-uri.ts'

export interface EngineOptions {
  libDir: string
  modelPath: string
  /** Per sequence; undefined for 4096 or the model's trained context, whichever is less. */
  contextSize: number | undefined
  batchSize: number
  parallel: number
  threads: number
  gpuLayers: number
  flashAttention: ContextOptions['flashAttention']
  embeddings: boolean
  pooling: Pooling
  /** The folder of the model's LoRA adapters (`<name>.gguf`), each loaded on first use and again when its file is replaced. */
  loraDir?: string
  /** The multimodal projector GGUF (`mmproj`), with the libmtmd folder that reads it. */
  mmproj?: string
  mtmdDir?: string
}

/** One loaded model inside the engine Worker: its context, its batch scheduler, and (when it embeds) an embeddings context. */
export class LlamaEngine {
  readonly native: LlamaNative
  readonly model: Pointer
  readonly context: Pointer
  readonly vocab: Pointer
  readonly vocabSize: number
  readonly scheduler: BatchScheduler
  /** Tokens of context per sequence. */
  readonly contextSize: number
  readonly #tokenizer: PromptTokenizer
  /** BOS as text when the vocabulary adds it to every prompt ('' when it does not). */
  readonly #addedBos: string
  #embeddingContext: Pointer | undefined
  /** The vision path, when the model has a projector. */
  readonly projector: VisionProjector | undefined

  constructor(readonly options: EngineOptions) {
    this.native = new LlamaNative(options.libDir)
    const model = this.native.loadModel(options.modelPath, options.gpuLayers)
    if (!model) throw new ProviderError(`llama.cpp could not load ${options.modelPath}: it is not a GGUF model it supports, or it is damaged`)
    this.model = model
    this.contextSize = options.contextSize ?? Math.min(4096, this.native.calls.llama_model_n_ctx_train(model))
    // Room for every sequence at its full context: a busy model never runs out of cache mid-answer.
    const context = this.native.newContext(model, {
      contextSize: this.contextSize * options.parallel,
      batchSize: options.batchSize,
      sequences: options.parallel,
      threads: options.threads,
      embeddings: false,
      pooling: 'model',
      flashAttention: options.flashAttention,
    })
    if (!context) {
      this.native.calls.llama_model_free(model)
      throw new ProviderError(`llama.cpp could not create a context of ${this.contextSize} × ${options.parallel} tokens for ${options.modelPath}`)
    }
    this.context = context
    this.vocab = this.native.vocab(model)
    this.vocabSize = this.native.calls.llama_vocab_n_tokens(this.vocab)
    this.#addedBos = this.native.calls.llama_vocab_get_add_bos(this.vocab) ? new TextDecoder().decode(this.native.tokenBytes(this.vocab, this.native.calls.llama_vocab_bos(this.vocab), true)) : ''
    this.#tokenizer = new PromptTokenizer(this.native, model, this.vocab)
    try {
      this.projector = options.mmproj ? this.#projector(options.mmproj) : undefined
    } catch (error) {
      this.native.freeContext(context)
      this.native.calls.llama_model_free(model)
      throw error
    }
    const loras = options.loraDir ? new LoraCache(this.native, model, options.loraDir, (key) => this.scheduler.detach(key)) : undefined
    this.#loras = loras
    this.scheduler = new BatchScheduler(this.native, context, this.vocab, options.parallel, this.native.calls.llama_n_batch(context), this.contextSize, this.projector, loras && ((key) => loras.pointer(key)))
    // The embeddings context is made at load: its memory is taken up front and a failure shows now, not
    // on some later request.
    if (options.embeddings) {
      try {
        this.#embeddings()
      } catch (error) {
        this.native.freeContext(context)
        this.native.calls.llama_model_free(model)
        throw error
      }
    }
  }

  /** Its LoRA adapters, per file version, for a model with an adapters folder. */
  readonly #loras: LoraCache | undefined

  #projector(path: string): VisionProjector {
    if (!this.options.mtmdDir) throw new ProviderError('A projector needs libmtmd: no folder was given')
    return new VisionProjector(this.options.mtmdDir, path, this.model, {
      useGpu: this.options.gpuLayers > 0,
      threads: this.options.threads,
      marker: `<__media_${randomUUID()}__>`,
      flashAttention: this.options.flashAttention === 'on' ? 1 : this.options.flashAttention === 'off' ? 0 : -1,
    })
  }

  info(): EngineInfo {
    const s = this.native.calls
    const text = (token: number) => new TextDecoder().decode(this.native.tokenBytes(this.vocab, token, true))
    return {
      description: this.native.describe(this.model),
      chatTemplate: this.native.chatTemplate(this.model),
      bosToken: text(s.llama_vocab_bos(this.vocab)),
      eosToken: text(s.llama_vocab_eos(this.vocab)),
      contextSize: this.contextSize,
      embeddingSize: s.llama_model_n_embd(this.model),
      trainedContext: s.llama_model_n_ctx_train(this.model),
      parameters: Number(s.llama_model_n_params(this.model)),
      devices: this.native.devices,
      libDir: this.options.libDir,
      ...(this.projector ? { mediaMarker: this.projector.options.marker } : {}),
    }
  }

  tokenize(text: string, special: boolean): Int32Array {
    return this.native.tokenize(this.vocab, text, special, special)
  }

  /**
   * A request's prompt as tokens: ids checked against the vocabulary, text refused by its length when it
   * cannot fit and else tokenized in slices (see `PromptTokenizer`); undefined when cancelled meanwhile.
   */
  async promptTokens(prompt: string | number[], param: string, out: WorkerSink, contextSize = this.contextSize): Promise<Int32Array | undefined> {
    if (typeof prompt !== 'string') return checkTokenIds(prompt, this.vocabSize, param)
    checkTextFits(prompt, contextSize, param)
    return this.#tokenizer.tokenize(prompt, () => out.aborted)
  }

  async generate(args: GenerateArgs, out: WorkerSink): Promise<GenerateResult> {
    const param = args.promptParam ?? 'prompt'
    checkLogitBias(args.logitBias, this.vocabSize)
    // Refused before the prompt is tokenized, which may take long; the scheduler checks the prompt's length.
    const n = Math.max(1, args.n ?? 1)
    if (n > this.options.parallel) throw tooManyChoices(n, this.options.parallel)
    if (!args.adapter) return this.#generateUnder(args, param, out)
    if (!this.#loras) throw new BadRequestError('This model has no adapters folder (loraDir)', { param: 'adapter', code: 'adapter_not_found' })
    // Loaded before the prompt is queued: an adapter llama.cpp refuses is the request's 400, not a step's failure.
    // The request runs under the file as it is now, held to its end even if a new one replaces it meanwhile;
    // its sequences carry the version's key as their adapter, so no slot's cache of another version is reused.
    const lease = await this.#loras.acquire(args.adapter)
    try {
      return await this.#generateUnder({ ...args, adapter: lease.key }, param, out)
    } finally {
      lease.release()
    }
  }

  async #generateUnder(args: GenerateArgs, param: string, out: WorkerSink): Promise<GenerateResult> {
    if (args.images?.length) return this.#generateWithImages(args, out)
    const prompt = await this.promptTokens(args.prompt, param, out)
    if (!prompt) return { promptTokens: 0, completionTokens: 0, finishReason: 'cancelled' }
    return this.#submit(prompt, args, out)
  }

  #submit(prompt: Int32Array, args: GenerateArgs, out: WorkerSink, media?: MediaPrompt): Promise<GenerateResult> {
    // One sequence per choice (`n`), each with its own sampler; the first carries the rest.
    const sequence = Sequence.choices(prompt, args, out, (choiceArgs) => samplerChain(this.native, this.vocab, this.vocabSize, choiceArgs), media)
    this.scheduler.submit(sequence)
    return sequence.settled
  }

  /** A prompt with images: split into text and image chunks by libmtmd; the scheduler puts each image's embeddings in the cache. */
  async #generateWithImages(args: GenerateArgs, out: WorkerSink): Promise<GenerateResult> {
    if (!this.projector) throw new BadRequestError('This model reads text only: it has no projector (mmproj) for images', { param: args.images![0]!.param })
    if (typeof args.prompt !== 'string') throw new ProviderError('A prompt with images must be text')
    const images = args.images!.map((image) => ({ bytes: dataUriBytes(image.url, image.param), param: image.param }))
    // A template that writes bos_token itself: libmtmd adds BOS too, so the template's goes.
    const bos = this.#addedBos
    const text = bos && args.prompt.startsWith(bos) ? args.prompt.slice(bos.length) : args.prompt
    const media = await this.projector.prompt(text, images, true)
    try {
      if (out.aborted) return { promptTokens: 0, completionTokens: 0, finishReason: 'cancelled' }
      return await this.#submit(media.keys, args, out, media)
    } finally {
      media.dispose()
    }
  }

  /**
   * One pooled, L2-normalized vector per input, pushed to `out` as it is made. Inputs are decoded in turn
   * on a context of their own, yielding between them so the chat sequences' steps go on, and stopping
   * (CancelledError) when the client has left. Each input must fit in one batch of that context.
   */
  async embed(inputs: Array<string | number[]>, out: WorkerSink): Promise<{ tokens: number }> {
    const context = this.#embeddings()
    const s = this.native.calls
    const memory = s.llama_get_memory(context)!
    const batchSize = s.llama_n_batch(context)
    const size = s.llama_model_n_embd(this.model)
    let tokens = 0
    for (const [index, input] of inputs.entries()) {
      if (index > 0) await yieldToEventLoop()
      if (out.aborted) throw new CancelledError('The request was cancelled')
      const ids = await this.promptTokens(input, 'input', out, batchSize)
      if (!ids) throw new CancelledError('The request was cancelled')
      if (ids.length === 0) throw new ProviderError('An embedding input has no tokens')
      if (ids.length > batchSize) throw contextLengthExceeded(`An embedding input (input[${index}]) has ${ids.length} tokens; this model embeds at most ${batchSize}`, 'input')
      tokens += ids.length
      s.llama_memory_clear(memory, true)
      const positions = Int32Array.from(ids, (_, i) => i)
      const code = this.native.decode(context, ids, positions, new Int32Array(ids.length), new Int8Array(ids.length).fill(1), ids.length)
      if (code !== 0) throw new ProviderError(`llama_decode failed for embeddings (${code})`)
      const pointer = s.llama_pooling_type(context) === 0 ? s.llama_get_embeddings_ith(context, ids.length - 1) : s.llama_get_embeddings_seq(context, 0)
      if (!pointer) throw new ProviderError('The model gave no embedding')
      const vector = this.native.floats(pointer, size)
      let norm = 0
      for (const value of vector) norm += value * value
      norm = Math.sqrt(norm) || 1
      for (let i = 0; i < vector.length; i++) vector[i]! /= norm
      if (!out.push(OutputChunk.embedding(index, vector))) await out.ready()
    }
    return { tokens }
  }

  #embeddings(): Pointer {
    if (this.#embeddingContext) return this.#embeddingContext
    const context = this.native.newContext(this.model, {
      contextSize: this.contextSize,
      batchSize: Math.min(this.contextSize, Math.max(this.options.batchSize, 512)),
      sequences: 1,
      threads: this.options.threads,
      embeddings: true,
      pooling: this.options.pooling,
      flashAttention: this.options.flashAttention,
    })
    if (!context) throw new ProviderError('llama.cpp could not create an embeddings context')
    this.#embeddingContext = context
    return context
  }

  /** Ends every request (a step in flight finishes first), then frees the contexts and the model. */
  async dispose(): Promise<void> {
    await this.scheduler.close(new ProviderError('The model was unloaded'))
    const s = this.native.calls
    if (this.#embeddingContext) this.native.freeContext(this.#embeddingContext)
    this.projector?.dispose()
    this.#loras?.dispose()
    this.native.freeContext(this.context)
    s.llama_model_free(this.model)
  }
}
