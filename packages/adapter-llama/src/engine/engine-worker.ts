import { ProviderError, serveWorker } from '@cy/core'
import { LlamaEngine, type EngineOptions } from './llama-engine.ts'
import type { GenerateArgs } from './generate-args.ts'

// The engine Worker: llama.cpp runs here, never on the server's event loop.
let engine: LlamaEngine | undefined

const loaded = (): LlamaEngine => {
  if (!engine) throw new ProviderError('The model is not loaded')
  return engine
}

serveWorker({
  load(options: EngineOptions) {
    engine = new LlamaEngine(options)
    return engine.info()
  },
  generate: (args: GenerateArgs, out) => loaded().generate(args, out),
  embed: (inputs: Array<string | number[]>, out) => loaded().embed(inputs, out),
  tokenize: (args: { text: string; special: boolean }) => Array.from(loaded().tokenize(args.text, args.special)),
  applyTemplate: (args: { template: string; messages: Array<{ role: string; content: string }> }) =>
    loaded().native.applyChatTemplate(args.template, args.messages, true),
  async dispose() {
    const closing = engine
    engine = undefined
    await closing?.dispose()
  },
})
