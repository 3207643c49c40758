import type { AdapterV1, Claim, ModelConfig } from '@cy/core'
import { manifest } from './manifest.ts'
import { claimSenseVoice } from './model-files/sensevoice-files.ts'
import { SenseVoiceModel } from './sensevoice-model.ts'

export function createSenseVoiceAdapter(defaults: Record<string, unknown> = {}): AdapterV1 {
  return {
    specificationVersion: 'v1',
    manifest,
    // By the model's own metadata (the file's header only), and tokens.txt beside it.
    async canLoad(path: string): Promise<Claim> {
      const claimed = await claimSenseVoice(path)
      return claimed.claim ? { claim: true } : { claim: false, reason: claimed.reason }
    },
    async load(config: ModelConfig) {
      return (await SenseVoiceModel.load(config, defaults)).loaded()
    },
  }
}
