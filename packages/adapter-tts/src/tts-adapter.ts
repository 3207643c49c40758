import type { AdapterV1, Claim, ModelConfig } from '@cy/core'
import { manifest } from './manifest.ts'
import { TtsModel } from './tts-model.ts'
import { claimTts } from './voices/tts-files.ts'

export function createTtsAdapter(defaults: Record<string, unknown> = {}): AdapterV1 {
  return {
    specificationVersion: 'v1',
    manifest,
    // A Piper voice by its .onnx.json beside it; a Kokoro model by its graph's inputs (the header only) and its voices file.
    async canLoad(path: string): Promise<Claim> {
      const claimed = await claimTts(path)
      return claimed.claim ? { claim: true } : { claim: false, reason: claimed.reason }
    },
    async load(config: ModelConfig) {
      return (await TtsModel.load(config, defaults)).loaded()
    },
  }
}
