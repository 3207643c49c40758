import type { AdapterV1, Claim, ModelConfig } from '@cy/core'
import { LlamaModel } from './llama-model.ts'
import { manifest } from './manifest.ts'

const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]

/** The adapter factory: options are defaults for every model it loads (threads, contextSize...). */
export function createLlamaAdapter(defaults: Record<string, unknown> = {}): AdapterV1 {
  const log = (line: string) => console.error(`[llama] ${line}`)
  return {
    specificationVersion: 'v1',
    manifest,
    canLoad(path: string, head: Uint8Array): Claim {
      if (!path.toLowerCase().endsWith('.gguf')) return { claim: false, reason: 'not a .gguf file' }
      const isGguf = GGUF_MAGIC.every((byte, i) => head[i] === byte)
      return isGguf ? { claim: true } : { claim: false, reason: 'no GGUF header' }
    },
    async load(config: ModelConfig) {
      return (await LlamaModel.load(config, defaults, defaults.quiet ? () => {} : log)).loaded()
    },
  }
}
