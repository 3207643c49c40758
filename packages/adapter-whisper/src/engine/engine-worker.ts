import { decodeAudio } from '@cy/audio'
import { ProviderError, serveWorker } from '@cy/core'
import type { EngineOptions, TranscribeRequest } from './transcribe-args.ts'
import { WhisperEngine } from './whisper-engine.ts'

// One engine Worker of a model's pool: whisper.cpp runs here, never on the server's event loop.
let engine: WhisperEngine | undefined

serveWorker({
  load(options: EngineOptions & { sharedContext?: number }) {
    engine = new WhisperEngine(options, options.sharedContext)
    return { context: Number(engine.context), multilingual: engine.multilingual, version: engine.native.version }
  },
  // The upload is decoded here too: parsing and resampling an hour of audio takes seconds.
  async transcribe({ file, limits, ...args }: TranscribeRequest, out) {
    if (!engine) throw new ProviderError('The model is not loaded')
    const audio = await decodeAudio(file, limits, 16_000, out.signal)
    engine.transcribe({ ...args, samples: audio.samples }, out)
  },
  dispose() {
    engine?.dispose()
    engine = undefined
  },
})
