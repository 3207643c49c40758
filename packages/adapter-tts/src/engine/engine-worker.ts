import { ProviderError, serveWorker } from '@cy/core'
import type { EngineOptions, SpeakArgs } from './speak-args.ts'
import { TtsEngine } from './tts-engine.ts'

// A model's engine Worker: the onnxruntime session and espeak-ng live here, never on the server's event loop
// (session.run blocks the thread it runs on).
let engine: TtsEngine | undefined

serveWorker({
  async load(options: EngineOptions) {
    engine = await TtsEngine.load(options, options.quiet ? () => {} : (line) => console.error(`[tts] ${line}`))
    return engine.info
  },
  async speak(args: SpeakArgs, out) {
    if (!engine) throw new ProviderError('The model is not loaded')
    await engine.speak(args, out)
  },
  async dispose() {
    await engine?.dispose()
    engine = undefined
  },
})
