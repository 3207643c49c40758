import type { AsrHandler, ChatHandler, CompletionHandler, EmbeddingHandler, ImageHandler, Providers, RegisterOptions, TtsHandler } from '@cy/core'

/** The seed's register methods, once: each is `registerModel` with one capability. */
export abstract class ModelRegistrar {
  abstract registerModel(name: string, providers: Providers, options?: RegisterOptions): this

  registerChat(name: string, handler: ChatHandler, options?: RegisterOptions): this {
    return this.registerModel(name, { chat: handler }, options)
  }

  registerCompletion(name: string, handler: CompletionHandler, options?: RegisterOptions): this {
    return this.registerModel(name, { completion: handler }, options)
  }

  registerEmbedding(name: string, handler: EmbeddingHandler, options?: RegisterOptions): this {
    return this.registerModel(name, { embedding: handler }, options)
  }

  registerASR(name: string, handler: AsrHandler, options?: RegisterOptions): this {
    return this.registerModel(name, { asr: handler }, options)
  }

  registerTTS(name: string, handler: TtsHandler, options?: RegisterOptions): this {
    return this.registerModel(name, { tts: handler }, options)
  }

  registerImageGeneration(name: string, handler: ImageHandler, options?: RegisterOptions): this {
    return this.registerModel(name, { image: handler }, options)
  }
}
