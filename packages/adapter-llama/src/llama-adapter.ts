import type { AdapterV1, Claim, ModelConfig } from '@cy/core'
import { readGguf, withFile } from '@cy/native'
import { resolveLlamaLibrary } from './library/resolve-library.ts'
import { trainingLibraryChoice } from './library/training-library.ts'
import { LlamaModel } from './llama-model.ts'
import { manifest } from './manifest.ts'
import { TrainingManager } from './training/jobs/training-manager.ts'

const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]
/** `general.architecture` of image models in GGUF (ComfyUI-GGUF's names): stable-diffusion.cpp's, not ours. */
const IMAGE_ARCHITECTURES = new Set(['sd1', 'sd2', 'sdxl', 'sd3', 'flux', 'aura', 'ltxv', 'hyvid', 'wan', 'hidream', 'cosmos', 'lumina2', 'qwen_image', 'chroma'])

/** A GGUF is llama.cpp's when it names a language-model architecture; image models in GGUF name none or their own. */
async function claimGguf(path: string): Promise<Claim> {
  let architecture: string | undefined
  let type: string | undefined
  try {
    const metadata = (await withFile(path, readGguf)).metadata
    architecture = metadata['general.architecture']
    type = metadata['general.type']
  } catch (error) {
    return { claim: false, reason: `an unreadable GGUF header: ${(error as Error).message}` }
  }
  if (!architecture) return { claim: false, reason: 'a GGUF without general.architecture (an image model?), not a llama.cpp model' }
  if (IMAGE_ARCHITECTURES.has(architecture)) return { claim: false, reason: `an image model (general.architecture ${architecture})` }
  // Parts of a model, not models: they are named in its options (mmproj, loraDir).
  if (architecture === 'clip') return { claim: false, reason: "a multimodal projector: it goes with its model (the model's mmproj option)" }
  if (type === 'adapter') return { claim: false, reason: "a LoRA adapter: put it in its model's adapters folder (the loraDir option)" }
  return { claim: true }
}

/** The adapter factory: options are defaults for every model it loads (threads, contextSize...). */
export function createLlamaAdapter(defaults: Record<string, unknown> = {}): AdapterV1 {
  const log = (line: string) => console.error(`[llama] ${line}`)
  return {
    specificationVersion: 'v1',
    manifest,
    async canLoad(path: string, head: Uint8Array): Promise<Claim> {
      if (!path.toLowerCase().endsWith('.gguf')) return { claim: false, reason: 'not a .gguf file' }
      if (!GGUF_MAGIC.every((byte, i) => head[i] === byte)) return { claim: false, reason: 'no GGUF header' }
      return claimGguf(path)
    },
    async load(config: ModelConfig) {
      return (await LlamaModel.load(config, defaults, defaults.quiet ? () => {} : log)).loaded()
    },
    training: {
      // Trained adapters land in the model's adapters folder, where `adapter` finds them at inference.
      servingOptions: (_name, adaptersDir) => ({ loraDir: adaptersDir }),
      createTrainer: ({ storePath, resolveModel, modelNames, log: trainerLog, ...options }) =>
        new TrainingManager({
          store: storePath,
          libDir: async () => {
            const own = trainingLibraryChoice(defaults.trainingLibDir)
            if (!own) (trainerLog ?? log)('training on the llama.cpp inference uses; `bun run engines:build llama-training` builds one for this CPU, which trains faster (bench:training)')
            return (await resolveLlamaLibrary(own ?? (typeof defaults.libDir === 'string' ? defaults.libDir : undefined), trainerLog ?? log)).dir
          },
          resolveModel,
          modelNames,
          ...options,
        }),
    },
  }
}
