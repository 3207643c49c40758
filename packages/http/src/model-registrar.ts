import type { AsrHandler, ChatHandler, CompletionHandler, EmbeddingHandler, ImageHandler, Providers, RegisterOptions, TtsHandler } from '@cy/core'
import type { ModelToolSettings } from '@cy/gateway'

/**
 * What a model is registered with: the registry's options (owner, metadata, limits, supported fields)
 * and how it takes tools, which the gateway keeps (`toolCalls: 'bridge'` for a model without tool calling).
 */
export interface ModelOptions extends RegisterOptions, ModelToolSettings {}

/** The seed's register methods, once: each is `registerModel` with one capability. */
export abstract class ModelRegistrar {
  abstract registerModel(name: string, providers: Providers, options?: ModelOptions): this

  /** Removes a name; false when it was not registered. */
  abstract unregisterModel(name: string): boolean

  registerChat(name: string, handler: ChatHandler, options?: ModelOptions): this {
    return this.registerModel(name, { chat: handler }, options)
  }

  registerCompletion(name: string, handler: CompletionHandler, options?: ModelOptions): this {
    return this.registerModel(name, { completion: handler }, options)
  }

  registerEmbedding(name: string, handler: EmbeddingHandler, options?: ModelOptions): this {
    return this.registerModel(name, { embedding: handler }, options)
  }

  registerASR(name: string, handler: AsrHandler, options?: ModelOptions): this {
    return this.registerModel(name, { asr: handler }, options)
  }

  registerTTS(name: string, handler: TtsHandler, options?: ModelOptions): this {
    return this.registerModel(name, { tts: handler }, options)
  }

  registerImageGeneration(name: string, handler: ImageHandler, options?: ModelOptions): this {
    return this.registerModel(name, { image: handler }, options)
  }
}
