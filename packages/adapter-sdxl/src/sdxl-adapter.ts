import type { AdapterV1, Claim, ModelConfig } from '@cy/core'
import { detectCheckpoint } from './checkpoint/index.ts'
import { manifest } from './manifest.ts'
import { SdxlModel } from './sdxl-model.ts'

export function createSdxlAdapter(defaults: Record<string, unknown> = {}): AdapterV1 {
  const log = (line: string) => console.error(`[sdxl] ${line}`)
  return {
    specificationVersion: 'v1',
    manifest,
    /** By the tensor names in the file's header (the file is not loaded): SD 1.x, SD 2.x and SDXL checkpoints. */
    async canLoad(path: string): Promise<Claim> {
      if (!manifest.fileExtensions!.some((extension) => path.toLowerCase().endsWith(extension))) return { claim: false, reason: 'not a .safetensors, .gguf or .ckpt file' }
      const detected = await detectCheckpoint(path)
      return detected.claim ? { claim: true, capabilities: ['image'] } : { claim: false, reason: detected.reason }
    },
    async load(config: ModelConfig) {
      const model = await SdxlModel.load(config, defaults, defaults.quiet ? () => {} : log)
      return model.loaded()
    },
  }
}
