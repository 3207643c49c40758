import { ProviderError, serveWorker } from '@cy/core'
import type { EngineOptions, TranscribeArgs } from './transcribe-args.ts'
import { WhisperEngine } from './whisper-engine.ts'

// One engine Worker of a model's pool: whisper.cpp runs here, never on the server's event loop.
let engine: WhisperEngine | undefined

serveWorker({
  load(options: EngineOptions & { sharedContext?: number }) {
    engine = new WhisperEngine(options, options.sharedContext)
    return { context: Number(engine.context), multilingual: engine.multilingual, version: engine.native.version }
  },
  transcribe(args: TranscribeArgs, out) {
    if (!engine) throw new ProviderError('The model is not loaded')
    engine.transcribe(args, out)
  },
  dispose() {
    engine?.dispose()
    engine = undefined
  },
})
