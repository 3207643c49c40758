import { decodeAudio } from '@cy/audio'
import { ProviderError, serveWorker } from '@cy/core'
import { SenseVoiceEngine } from './sensevoice-engine.ts'
import type { EngineOptions, TranscribeRequest } from './transcribe-args.ts'

// A model's engine Worker: the onnxruntime session lives here, never on the server's event loop
// (session.run blocks the thread it runs on).
let engine: SenseVoiceEngine | undefined

serveWorker({
  async load(options: EngineOptions) {
    engine = await SenseVoiceEngine.load(options, options.quiet ? () => {} : (line) => console.error(`[sensevoice] ${line}`))
    return engine.info
  },
  // The upload is decoded here too: parsing and resampling an hour of audio takes seconds.
  async transcribe({ file, limits, ...args }: TranscribeRequest, out) {
    if (!engine) throw new ProviderError('The model is not loaded')
    const audio = await decodeAudio(file, limits, 16_000, out.signal)
    await engine.transcribe({ ...args, samples: audio.samples }, out)
  },
  async dispose() {
    await engine?.dispose()
    engine = undefined
  },
})
