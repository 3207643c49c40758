import type { AdapterV1, Claim, ModelConfig } from '@cy/core'
import { manifest } from './manifest.ts'
import { WhisperModel } from './whisper-model.ts'

/** whisper.cpp's own format starts with 'ggml' as a little-endian word. */
const GGML_MAGIC = [0x6c, 0x6d, 0x67, 0x67]

export function createWhisperAdapter(defaults: Record<string, unknown> = {}): AdapterV1 {
  const log = (line: string) => console.error(`[whisper] ${line}`)
  return {
    specificationVersion: 'v1',
    manifest,
    canLoad(path: string, head: Uint8Array): Claim {
      if (path.endsWith('.bin') && GGML_MAGIC.every((byte, i) => head[i] === byte)) return { claim: true }
      return { claim: false, reason: 'not a whisper.cpp model (ggml-*.bin)' }
    },
    async load(config: ModelConfig) {
      const model = await WhisperModel.load(config, defaults, defaults.quiet ? () => {} : log)
      // One request per decoding state; the rest wait in the server's queue in front of the model.
      return { ...model.loaded(), limits: { maxConcurrency: model.options.parallel } }
    },
  }
}
