import {
  BadRequestError,
  OutputChunk,
  SupervisedHost,
  UnsupportedParameterError,
  type ChatRequest,
  type CompletionRequest,
  type EmbeddingRequest,
  type LoadedModel,
  type ModelConfig,
  type OutputSink,
} from '@cy/core'
import { existsSync } from 'node:fs'
import { ChatTemplate, templateMessages, type TemplateImage } from './chat/chat-template.ts'
import type { EngineOptions } from './engine/llama-engine.ts'
import { requestedLogprobs, type EngineInfo, type GenerateArgs } from './engine/generate-args.ts'
import { requestGrammar } from './grammar/request-grammar.ts'
import type { SamplerGrammar } from './grammar/tool-call-grammar.ts'
import { resolveLlamaLibrary } from './library/resolve-library.ts'
import { resolveMtmdLibrary } from './library/resolve-mtmd.ts'
import { parseLlamaOptions } from './llama-options.ts'
import { completionPrompts, PromptSink, UsageTotal } from './prompt-choices.ts'
import { checkMessagesFit, checkTextFits } from './prompt-limits.ts'
import { LLAMA_SUPPORTS } from './llama-supports.ts'
import { ADAPTER_NAME, AdapterFolder } from './lora/adapter-folder.ts'

type SamplingRequest = Pick<
  ChatRequest,
  'max_tokens' | 'temperature' | 'top_p' | 'top_k' | 'min_p' | 'repeat_penalty' | 'presence_penalty' | 'frequency_penalty' | 'seed' | 'stop' | 'logit_bias' | 'n' | 'adapter'
> & { logprobs?: unknown; top_logprobs?: unknown }

function generateArgs(prompt: string | number[], promptParam: GenerateArgs['promptParam'], request: SamplingRequest, grammar?: SamplerGrammar, images?: TemplateImage[]): GenerateArgs {
  const adapter = request.adapter
  const stop = request.stop == null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop
  return {
    prompt,
    promptParam,
    maxTokens: request.max_tokens ?? undefined,
    // OpenAI's default temperature is 1.
    temperature: request.temperature ?? 1,
    topP: request.top_p ?? undefined,
    topK: request.top_k,
    minP: request.min_p,
    repeatPenalty: request.repeat_penalty,
    presencePenalty: request.presence_penalty ?? undefined,
    frequencyPenalty: request.frequency_penalty ?? undefined,
    seed: request.seed ?? undefined,
    stop: stop.filter((s) => s.length > 0),
    logitBias: request.logit_bias ?? undefined,
    grammar: grammar?.grammar,
    n: request.n ?? 1,
    logprobs: requestedLogprobs(request),
    ...(grammar?.triggers ? { grammarTriggers: grammar.triggers } : {}),
    ...(images?.length ? { images } : {}),
    ...(adapter ? { adapter } : {}),
  }
}

/**
 * A GGUF model served by llama.cpp in its own engine process (or Worker, `isolation`); the handlers forward
 * to it. An engine process that dies is restarted and loaded again (see `SupervisedHost`).
 */
export class LlamaModel {
  #disposed = false

  private constructor(
    readonly config: ModelConfig,
    readonly info: EngineInfo,
    readonly host: SupervisedHost,
    readonly template: ChatTemplate | undefined,
    readonly embeddings: boolean,
    readonly parallel: number,
    /** How long unloading waits for the engine Worker before stopping it. */
    readonly disposeTimeout: number,
    /** The folder of its LoRA adapters, whose live list of names is its metadata's `loraAdapters`. */
    readonly adapters: AdapterFolder,
  ) {}

  /** A request's `adapter`, checked: a name of the adapters folder (never a path), else the client's 400. */
  async #checkAdapter(request: SamplingRequest): Promise<void> {
    const name = request.adapter
    if (name === undefined) return
    if (!ADAPTER_NAME.test(name)) throw this.#unknownAdapter(name, this.adapters.names)
    // The watched list, listed again only for a name it lacks (an adapter renamed in a moment ago counts); a
    // listed one deleted since is the engine's own adapter_not_found when it opens the file.
    if (this.adapters.names.includes(name)) return
    const available = await this.adapters.refresh()
    if (!available.includes(name)) throw this.#unknownAdapter(name, available)
  }

  #unknownAdapter(name: string, available: readonly string[]): BadRequestError {
    return new BadRequestError(`Unknown adapter '${name}' for model '${this.config.name}'. Available: ${available.join(', ') || 'none'}`, { param: 'adapter', code: 'adapter_not_found' })
  }

  static async load(config: ModelConfig, defaults: Record<string, unknown> = {}, log: (line: string) => void = () => {}): Promise<LlamaModel> {
    const path = config.path
    if (!path) throw new Error(`Model '${config.name}': the llama adapter needs a GGUF file path`)
    if (!existsSync(path)) throw new Error(`Model '${config.name}': no such file ${path}`)
    const options = parseLlamaOptions({ ...defaults, ...config.options })
    if (options.mmproj && !existsSync(options.mmproj)) throw new Error(`Model '${config.name}': no such projector file ${options.mmproj}`)
    const library = await resolveLlamaLibrary(options.libDir, log)
    // Vision: libmtmd, ABI-matched with the libllama just resolved (built once when there is none).
    const mtmdDir = options.mmproj ? await resolveMtmdLibrary(library.dir, options.mtmdLib, log) : undefined
    const hasGpu = library.devices.some((device) => device !== 'CPU' && !device.startsWith('CPU'))
    const engineOptions: EngineOptions = {
      libDir: library.dir,
      modelPath: path,
      contextSize: options.contextSize,
      batchSize: options.batchSize,
      parallel: options.parallel,
      threads: options.threads,
      gpuLayers: options.gpuLayers ?? (hasGpu ? 999 : 0),
      flashAttention: options.flashAttention,
      embeddings: options.embeddings,
      pooling: options.pooling,
      ...(options.mmproj ? { mmproj: options.mmproj, mtmdDir } : {}),
      ...(options.loraDir ? { loraDir: options.loraDir } : {}),
    }
    let host: SupervisedHost
    let info: EngineInfo
    try {
      ;({ host, loaded: info } = await SupervisedHost.start<EngineInfo>(new URL('./engine/engine-worker.ts', import.meta.url), {
        name: `llama:${config.name}`,
        isolation: options.isolation,
        load: { method: 'load', args: engineOptions },
      }))
    } catch (error) {
      throw new Error(`Model '${config.name}' (${path}): ${(error as Error).message}`)
    }
    let template: ChatTemplate | undefined
    if (info.chatTemplate) {
      try {
        template = new ChatTemplate(info.chatTemplate, info.bosToken, info.eosToken)
      } catch (error) {
        log(`model '${config.name}': its chat template does not parse (${(error as Error).message}); using llama.cpp's built-in templates`)
      }
    }
    return new LlamaModel(config, info, host, template, options.embeddings, options.parallel, options.disposeTimeout, await AdapterFolder.open(options.loraDir))
  }

  /** Whether the model reads images (it has a projector). */
  get vision(): boolean {
    return this.info.mediaMarker !== undefined
  }

  /**
   * The prompt for a chat: the model's Jinja template, else llama.cpp's built-in template matching. Image
   * parts become the engine's media marker and are added to `images`, in order.
   */
  async chatPrompt(request: ChatRequest, images: TemplateImage[] = []): Promise<string> {
    const messages = templateMessages(request.messages, this.info.mediaMarker, images)
    checkMessagesFit(messages, this.info.contextSize)
    const prompt = this.template
      ? this.template.render(messages, request.tools)
      : await this.host.call<string>('applyTemplate', { template: this.info.chatTemplate ?? 'chatml', messages })
    checkTextFits(prompt, this.info.contextSize, 'messages')
    return prompt
  }

  /** Generates from one prompt into `out`, leaving `out` open. */
  async #generate(prompt: string | number[], param: GenerateArgs['promptParam'], request: SamplingRequest, out: OutputSink, grammar?: SamplerGrammar, images?: TemplateImage[]): Promise<void> {
    if (this.#disposed) throw new Error(`Model '${this.config.name}' was unloaded`)
    if (typeof prompt === 'string') checkTextFits(prompt, this.info.contextSize, param!)
    await this.#checkAdapter(request)
    await this.host.call('generate', generateArgs(prompt, param, request, grammar, images), out)
  }

  /** A completion's prompts side by side, one choice (or `n`) each, as OpenAI answers a list of prompts. */
  async #complete(prompts: Array<string | number[]>, request: CompletionRequest, out: OutputSink, grammar?: SamplerGrammar): Promise<void> {
    if (prompts.length === 1) return this.#generate(prompts[0]!, 'prompt', request, out, grammar)
    const n = request.n ?? 1
    const usage = new UsageTotal()
    // One prompt failing stops the others.
    const stop = new AbortController()
    const onAbort = () => stop.abort(out.signal.reason)
    out.signal.addEventListener('abort', onAbort, { once: true })
    // At most `parallel` sequences of this request in the engine at once: the rest wait here, holding
    // nothing native, so one request of many prompts cannot flood the engine's queue past its limit.
    const atOnce = Math.max(1, Math.floor(this.parallel / n))
    let next = 0
    const worker = async () => {
      while (next < prompts.length && !stop.signal.aborted) {
        const i = next++
        await this.#generate(prompts[i]!, 'prompt', request, new PromptSink(out, i * n, usage, stop.signal), grammar).catch((error: unknown) => {
          stop.abort(error)
          throw error
        })
      }
    }
    try {
      await Promise.all(Array.from({ length: Math.min(atOnce, prompts.length) }, worker))
    } finally {
      out.signal.removeEventListener('abort', onAbort)
    }
    out.push(usage.chunk())
  }

  loaded(): LoadedModel {
    const providers: LoadedModel['providers'] = {
      chat: async (request: ChatRequest, out) => {
        const images: TemplateImage[] = []
        await this.#generate(await this.chatPrompt(request, images), 'messages', request, out, requestGrammar(request), images)
        out.end()
      },
      completion: (request: CompletionRequest, out) => {
        if (request.echo && request.logprobs != null) throw new UnsupportedParameterError(this.config.name, 'echo', 'with logprobs (log-probabilities of the prompt)')
        return this.#complete(completionPrompts(request.prompt), request, out, requestGrammar(request as { grammar?: unknown })).then(() => out.end())
      },
    }
    if (this.embeddings) {
      providers.embedding = async (request: EmbeddingRequest, out) => {
        const input = request.input
        const inputs: Array<string | number[]> = typeof input === 'string' ? [input] : typeof input[0] === 'number' ? [input as number[]] : (input as Array<string | number[]>)
        // The vectors come to `out` one by one; the call's signal stops the engine between inputs.
        const { tokens } = await this.host.call<{ tokens: number }>('embed', inputs, out)
        out.push(OutputChunk.usage(tokens, 0))
        out.end()
      }
    }
    return {
      providers,
      // llama.cpp gives text only: tools go through the gateway's text bridge.
      toolCalls: 'bridge',
      // The engine runs `parallel` sequences at once: the server queues the rest in front of it.
      limits: { maxConcurrency: this.parallel },
      supports: LLAMA_SUPPORTS,
      onStatus: this.host.onStatus,
      metadata: {
        isolation: this.host.current.isolation,
        description: this.info.description,
        contextSize: this.info.contextSize,
        embeddingSize: this.info.embeddingSize,
        parameters: this.info.parameters,
        devices: this.info.devices,
        library: this.info.libDir,
        // Image parts in chat: the HTTP layer fetches their URLs only for models that read them.
        vision: this.vision,
        // The same array as the folder's names, updated in place as adapters come and go.
        loraAdapters: this.adapters.names,
        ...(this.vision ? { projector: (this.config.options as { mmproj?: string } | undefined)?.mmproj } : {}),
      },
      dispose: () => this.dispose(),
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    this.adapters.close()
    // A Worker stuck in native code never answers: past the deadline it is stopped all the same.
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.disposeTimeout)))
    try {
      await Promise.race([this.host.call('dispose', null), deadline])
    } finally {
      clearTimeout(timer)
      this.host.terminate()
    }
  }
}
