import { type CheckpointFormat, type TensorIndex, type TensorInfo } from '@cy/native'
import { basename } from 'node:path'
import { readTensorIndex } from './read-tensor-index.ts'
import { ne, sdModelVersion, UNET_VERSIONS, type SdModelVersion } from './sd-model-version.ts'

export type CheckpointFamily = 'sd1' | 'sd2' | 'sdxl'
export type CheckpointVariant = 'base' | 'inpaint' | 'pix2pix' | 'tiny' | 'sdxs' | 'ssd-1b' | 'vega'
/** What a single file holds: the UNet, its text encoders (CLIP-L; OpenCLIP-H for SD2; OpenCLIP bigG for SDXL) and first stages. */
export type CheckpointComponent = 'unet' | 'clip-l' | 'clip-h' | 'clip-g' | 'vae' | 'taesd'
/** A distillation named by the file or its metadata: it changes the sensible defaults (few steps, cfg 1), not the architecture. */
export type Distillation = 'turbo' | 'lightning' | 'lcm' | 'hyper'

export interface ClaimedCheckpoint {
  claim: true
  family: CheckpointFamily
  variant: CheckpointVariant
  /** stable-diffusion.cpp's SDVersion for the file (`VERSION_SDXL_SSD1B`). */
  version: `VERSION_${string}`
  components: CheckpointComponent[]
  format: CheckpointFormat
  /** The UNet's input channels (4; 9 inpaint; 8 pix2pix) and its model_channels (sd.cpp infers both from input_blocks.0.0). */
  unetInChannels: number | null
  modelChannels: number | null
  distilled: Distillation | null
}

export type CheckpointDetection = ClaimedCheckpoint | { claim: false; reason: string }

const VARIANTS: Partial<Record<SdModelVersion, [CheckpointFamily, CheckpointVariant]>> = {
  SD1: ['sd1', 'base'], SD1_INPAINT: ['sd1', 'inpaint'], SD1_PIX2PIX: ['sd1', 'pix2pix'], SD1_TINY_UNET: ['sd1', 'tiny'], SDXS_512_DS: ['sd1', 'sdxs'],
  SD2: ['sd2', 'base'], SD2_INPAINT: ['sd2', 'inpaint'], SD2_TINY_UNET: ['sd2', 'tiny'], SDXS_09: ['sd2', 'sdxs'],
  SDXL: ['sdxl', 'base'], SDXL_INPAINT: ['sdxl', 'inpaint'], SDXL_PIX2PIX: ['sdxl', 'pix2pix'], SDXL_SSD1B: ['sdxl', 'ssd-1b'], SDXL_VEGA: ['sdxl', 'vega'],
}

// GGUF architectures of image models (city96's ComfyUI-GGUF and sd.cpp conversions); any other names an LLM, whisper...
const IMAGE_ARCHITECTURES = new Set(['sd1', 'sd2', 'sdxl', 'sd3', 'flux', 'aura', 'ltxv', 'hyvid', 'wan', 'cosmos', 'lumina2', 'hidream', 'chroma', 'qwen_image'])

const COMPONENT_PREFIXES: Array<[CheckpointComponent, string[]]> = [
  ['unet', ['model.diffusion_model.', 'unet.']],
  ['clip-l', ['cond_stage_model.transformer.', 'conditioner.embedders.0.transformer.', 'te.text_model.']],
  ['clip-h', ['cond_stage_model.model.']],
  ['clip-g', ['conditioner.embedders.1.', 'cond_stage_model.1.']],
  ['vae', ['first_stage_model.', 'vae.']],
  ['taesd', ['tae.']],
]

const LORA_NAME = /^lora_(?:unet|te\d?)_|^lora\.|\.lora_(?:up|down|mid)\.weight$|\.lora[._](?:up|down)\.weight$|\.lora_[AB](?:\.default)?(?:\.weight)?$|\.(?:hada_w[12]_[ab]|lokr_w[12](?:_[ab])?)$/

/**
 * Decides, from the tensor names and shapes alone (the file is not loaded), whether stable-diffusion.cpp would
 * load this file as an SD 1.x, SD 2.x or SDXL checkpoint, and which variant. Never throws: a file it cannot read,
 * or one that is not such a checkpoint (a LoRA, a standalone VAE/TAESD, an LLM GGUF, a DiT), is `{ claim: false, reason }`.
 */
export async function detectCheckpoint(path: string): Promise<CheckpointDetection> {
  try {
    return classify(await readTensorIndex(path), basename(path))
  } catch (error) {
    return { claim: false, reason: `not a readable model file: ${error instanceof Error ? error.message : String(error)}` }
  }
}

/** detectCheckpoint's decision for an index already read (`fileName` feeds only the Turbo/Lightning hint). */
export function classify(index: TensorIndex, fileName = ''): CheckpointDetection {
  const architecture = index.metadata['general.architecture']
  if (architecture !== undefined && !IMAGE_ARCHITECTURES.has(architecture)) {
    return { claim: false, reason: `a '${architecture}' GGUF (general.architecture), not an image model` }
  }
  const tensors = index.tensors.filter((t) => t.dtype !== 'U8')
  if (tensors.length === 0) return { claim: false, reason: 'the file holds no tensors' }
  const byName = new Map(tensors.map((t) => [t.name, t]))
  const inputConv = byName.get('model.diffusion_model.input_blocks.0.0.weight') ?? byName.get('unet.conv_in.weight')
  if (!inputConv && tensors.some((t) => LORA_NAME.test(t.name))) {
    return { claim: false, reason: 'a LoRA, not a checkpoint: put it in the lorasDir folder and name it in `loras` or as <lora:name:weight>' }
  }
  if (tensors.some((t) => t.name.startsWith('te.1.'))) {
    // sd.cpp decides again after renaming, when te.1.* has become cond_stage_model.transformer.1.*: no second
    // encoder any more, so it takes such a file for SD 1.x and fails on the SDXL tensors.
    return { claim: false, reason: 'diffusers-style SDXL names (te.1.*): stable-diffusion.cpp loads this layout as SD 1.x; use a single-file (LDM-named) SDXL checkpoint' }
  }
  const version = sdModelVersion(tensors)
  const known = VARIANTS[version]
  if (!known) return { claim: false, reason: unclaimedReason(version, tensors) }
  const [family, variant] = known
  const components = COMPONENT_PREFIXES.filter(([, prefixes]) => tensors.some((t) => prefixes.some((p) => t.name.startsWith(p)))).map(([c]) => c)
  // sd.cpp names a version for a lone text encoder too (a 768-wide embedding without middle_block.1 reads as
  // SDXS); it would then fail to load, lacking the UNet: not a checkpoint.
  if (!components.includes('unet')) return { claim: false, reason: unclaimedReason('UNKNOWN', tensors) }
  return {
    claim: true,
    family,
    variant,
    version: `VERSION_${version}`,
    components,
    format: index.format,
    unetInChannels: inputConv?.shape ? ne(inputConv, 2) : null,
    modelChannels: inputConv?.shape ? ne(inputConv, 3) : null,
    distilled: distillation(fileName, index.metadata),
  }
}

function unclaimedReason(version: SdModelVersion, tensors: TensorInfo[]): string {
  if (version === 'SVD') return 'a Stable Video Diffusion model (video), not an image checkpoint'
  if (version !== 'UNKNOWN' && !UNET_VERSIONS.has(version)) {
    return `a ${version.toLowerCase().replace(/_/g, '-')} DiT model: it needs T5/LLM tokenizers this stable-diffusion.cpp build lacks (only CLIP-based SD 1.x, SD 2.x and SDXL are served)`
  }
  const all = (test: (name: string) => boolean): boolean => tensors.every((t) => test(t.name))
  const some = (part: string): boolean => tensors.some((t) => t.name.includes(part))
  if (all((n) => /^(?:tae\.|taesd_)?(?:encoder|decoder)\.layers\./.test(n) || /^(?:taesd_)?(?:encoder|decoder)\./.test(n)) && some('.layers.')) {
    return 'a standalone TAESD, not a checkpoint: name it in a model\'s `taesd` option'
  }
  if (all((n) => /^(?:first_stage_model\.|vae\.)?(?:encoder|decoder|quant_conv|post_quant_conv)[._]/.test(n))) {
    return 'a standalone VAE, not a checkpoint: name it in a model\'s `vae` option'
  }
  const unet = some('model.diffusion_model.input_blocks.') || some('unet.down_blocks.') || /^(?:diffusion_model\.)?input_blocks\./.test(tensors[0]?.name ?? '') || tensors.some((t) => t.name.startsWith('input_blocks.'))
  if (unet) return 'a UNet without its text encoder: configure it as `diffusionModel` with `clipL` (and `clipG` for SDXL)'
  if (some('text_model.') || some('token_embedding')) return 'a standalone text encoder, not a checkpoint: name it in a model\'s `clipL` or `clipG` option'
  return 'no SD 1.x, SD 2.x or SDXL tensors: stable-diffusion.cpp could not tell its version'
}

function distillation(fileName: string, metadata: Record<string, string>): Distillation | null {
  const text = [fileName, metadata['modelspec.title'], metadata['modelspec.description'], metadata['ss_sd_model_name']].join(' ').toLowerCase()
  if (/turbo/.test(text)) return 'turbo'
  if (/lightning/.test(text)) return 'lightning'
  if (/hyper[-_ ]?sd|hyper/.test(text)) return 'hyper'
  if (/\blcm\b|[-_]lcm[-_.]|lcm[-_]/.test(text)) return 'lcm'
  return null
}
