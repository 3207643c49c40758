import {
  OutputChunk,
  WorkerHost,
  type ChatRequest,
  type CompletionRequest,
  type EmbeddingRequest,
  type LoadedModel,
  type ModelConfig,
  type OutputSink,
} from '@cy/core'
import { existsSync } from 'node:fs'
import { ChatTemplate, templateMessages } from './chat/chat-template.ts'
import type { EngineOptions } from './engine/llama-engine.ts'
import type { EngineInfo, GenerateArgs } from './engine/generate-args.ts'
import { JSON_OBJECT_GRAMMAR, jsonSchemaToGrammar } from './grammar/json-schema-grammar.ts'
import { resolveLlamaLibrary } from './library/resolve-library.ts'
import { parseLlamaOptions } from './llama-options.ts'

type SamplingRequest = Pick<
  ChatRequest,
  'max_tokens' | 'temperature' | 'top_p' | 'top_k' | 'min_p' | 'repeat_penalty' | 'presence_penalty' | 'frequency_penalty' | 'seed' | 'stop' | 'logit_bias'
>

/**
 * The grammar a request asks for: llama.cpp server's `grammar` extension (GBNF text) as given, else what
 * `response_format` implies: any JSON object, or JSON that a given schema accepts.
 */
function responseGrammar(request: { response_format?: ChatRequest['response_format']; grammar?: unknown }): string | undefined {
  if (typeof request.grammar === 'string' && request.grammar.trim()) return request.grammar
  const format = request.response_format
  if (!format || format.type === 'text') return undefined
  if (format.type === 'json_object') return JSON_OBJECT_GRAMMAR
  return format.json_schema.schema ? jsonSchemaToGrammar(format.json_schema.schema) : JSON_OBJECT_GRAMMAR
}

function generateArgs(prompt: string, request: SamplingRequest, grammar?: string): GenerateArgs {
  const stop = request.stop == null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop
  return {
    prompt,
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
    grammar,
  }
}

/** A GGUF model served by llama.cpp on its own Worker; the handlers forward to it. */
export class LlamaModel {
  #disposed = false

  private constructor(
    readonly config: ModelConfig,
    readonly info: EngineInfo,
    readonly host: WorkerHost,
    readonly template: ChatTemplate | undefined,
    readonly embeddings: boolean,
  ) {}

  static async load(config: ModelConfig, defaults: Record<string, unknown> = {}, log: (line: string) => void = () => {}): Promise<LlamaModel> {
    const path = config.path
    if (!path) throw new Error(`Model '${config.name}': the llama adapter needs a GGUF file path`)
    if (!existsSync(path)) throw new Error(`Model '${config.name}': no such file ${path}`)
    const options = parseLlamaOptions({ ...defaults, ...config.options })
    const library = await resolveLlamaLibrary(options.libDir, log)
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
    }
    const host = new WorkerHost(new URL('./engine/engine-worker.ts', import.meta.url), { name: `llama:${config.name}` })
    let info: EngineInfo
    try {
      info = await host.call<EngineInfo>('load', engineOptions)
    } catch (error) {
      host.terminate()
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
    return new LlamaModel(config, info, host, template, options.embeddings)
  }

  /** The prompt for a chat: the model's Jinja template, else llama.cpp's built-in template matching. */
  async chatPrompt(request: ChatRequest): Promise<string> {
    const messages = templateMessages(request.messages)
    if (this.template) return this.template.render(messages, request.tools)
    return this.host.call<string>('applyTemplate', { template: this.info.chatTemplate ?? 'chatml', messages })
  }

  #generate(prompt: string, request: SamplingRequest, out: OutputSink, grammar?: string): Promise<void> {
    if (this.#disposed) return Promise.reject(new Error(`Model '${this.config.name}' was unloaded`))
    return this.host.call('generate', generateArgs(prompt, request, grammar), out).then(() => out.end())
  }

  loaded(): LoadedModel {
    const providers: LoadedModel['providers'] = {
      chat: async (request: ChatRequest, out) => {
        return this.#generate(await this.chatPrompt(request), request, out, responseGrammar(request))
      },
      completion: (request: CompletionRequest, out) => {
        const prompt = typeof request.prompt === 'string' ? request.prompt : Array.isArray(request.prompt) && typeof request.prompt[0] === 'string' ? (request.prompt as string[]).join('') : ''
        return this.#generate(prompt, request, out, responseGrammar(request as { grammar?: unknown }))
      },
    }
    if (this.embeddings) {
      providers.embedding = async (request: EmbeddingRequest, out) => {
        const input = request.input
        const inputs: Array<string | number[]> = typeof input === 'string' ? [input] : typeof input[0] === 'number' ? [input as number[]] : (input as Array<string | number[]>)
        const { vectors, tokens } = await this.host.call<{ vectors: Float32Array[]; tokens: number }>('embed', inputs)
        vectors.forEach((vector, index) => out.push(OutputChunk.embedding(index, vector)))
        out.push(OutputChunk.usage(tokens, 0))
        out.end()
      }
    }
    return {
      providers,
      // llama.cpp gives text only: tools go through the gateway's text bridge.
      toolCalls: 'bridge',
      metadata: {
        description: this.info.description,
        contextSize: this.info.contextSize,
        embeddingSize: this.info.embeddingSize,
        parameters: this.info.parameters,
        devices: this.info.devices,
        library: this.info.libDir,
      },
      dispose: () => this.dispose(),
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    try {
      await this.host.call('dispose', null)
    } finally {
      this.host.terminate()
    }
  }
}
