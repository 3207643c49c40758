import { ProviderError, serveWorker } from '@cy/core'
import type { EngineOptions, GenerateRequest } from './generate-args.ts'
import { SdEngine } from './sd-engine.ts'

// One context's thread: generate_image blocks it for the whole generation, so it runs here, never on an
// event loop that anything else needs. Uploads are decoded and images encoded here too.
let engine: SdEngine | undefined

serveWorker({
  async load(options: EngineOptions) {
    engine = await SdEngine.load(options)
    return { commit: engine.native.commit, samplers: engine.samplers, schedulers: engine.schedulers }
  },
  async generate(request: GenerateRequest, out) {
    if (!engine) throw new ProviderError('The model is not loaded')
    await engine.generate(request, out)
  },
  dispose() {
    engine?.dispose()
    engine = undefined
  },
})
