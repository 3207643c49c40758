import { type TensorInfo } from '@cy/native'

/** The UNet (CLIP-conditioned) versions of stable-diffusion.cpp's SDVersion (`VERSION_` dropped): what this build serves. */
const UNET = [
  'SD1', 'SD1_INPAINT', 'SD1_PIX2PIX', 'SD1_TINY_UNET', 'SDXS_512_DS',
  'SD2', 'SD2_INPAINT', 'SD2_TINY_UNET', 'SDXS_09',
  'SDXL', 'SDXL_INPAINT', 'SDXL_PIX2PIX', 'SDXL_VEGA', 'SDXL_SSD1B',
] as const
/** The DiT and video versions it tells apart (their sub-variants folded in); `UNKNOWN` is its VERSION_COUNT. */
type OtherVersion =
  | 'SVD' | 'SD3' | 'FLUX' | 'FLUX2' | 'WAN2' | 'QWEN_IMAGE' | 'CHROMA_RADIANCE' | 'HUNYUAN_VIDEO' | 'Z_IMAGE'
  | 'LTXAV' | 'PID' | 'IDEOGRAM4' | 'KREA2' | 'HIDREAM_O1' | 'LENS' | 'MINIT2I' | 'ANIMA' | 'SEFI_IMAGE'
  | 'OVIS_IMAGE' | 'BOOGU_IMAGE' | 'ERNIE_IMAGE' | 'MINIMAX_H3' | 'LINGBOT_VIDEO'
  | 'UNKNOWN'
export type SdModelVersion = (typeof UNET)[number] | OtherVersion

export const UNET_VERSIONS: ReadonlySet<SdModelVersion> = new Set<SdModelVersion>(UNET)

// Names whose presence settles the version at once (model_loader.cpp:467-556), in the source's order;
// `also` is a second exact name the source requires beside it.
const EARLY: Array<{ marker: string; version: SdModelVersion; also?: string }> = [
  { marker: 'model.diffusion_model.net.lq_proj.latent_proj.0.weight', version: 'PID' },
  { marker: 'embed_image_indicator.weight', version: 'IDEOGRAM4' },
  { marker: 'model.diffusion_model.txtfusion.projector.weight', version: 'KREA2' },
  { marker: 'model.diffusion_model.text_fusion.projector.weight', version: 'KREA2' },
  { marker: 'model.diffusion_model.nerf_final_layer_conv.', version: 'CHROMA_RADIANCE' },
  { marker: 'model.diffusion_model.joint_blocks.', version: 'SD3' },
  { marker: 'model.x_embedder.proj1.weight', version: 'HIDREAM_O1', also: 'model.language_model.layers.0.self_attn.q_proj.weight' },
  { marker: 'model.diffusion_model.transformer_blocks.0.attn.norm_added_q.weight', version: 'LENS', also: 'model.diffusion_model.transformer_blocks.0.img_mlp.w1.weight' },
  { marker: 'net.img_embedder.proj1.weight', version: 'MINIT2I' },
  { marker: 'model.diffusion_model.transformer_blocks.0.img_mod.1.weight', version: 'QWEN_IMAGE' },
  { marker: 'model.diffusion_model.txt_in.individual_token_refiner.blocks.0.adaLN_modulation.1.weight', version: 'HUNYUAN_VIDEO' },
  { marker: 'llm_adapter.blocks.0.cross_attn.q_proj.weight', version: 'ANIMA' },
  { marker: 'dual_time_embed.semantic_embedder.linear_1.weight', version: 'SEFI_IMAGE' },
  { marker: 'model.diffusion_model.double_blocks.0.img_mlp.gate_proj.weight', version: 'OVIS_IMAGE' },
  { marker: 'model.diffusion_model.cap_embedder.0.weight', version: 'Z_IMAGE' },
  { marker: 'double_stream_layers.0.img_instruct_attn.processor.img_to_q.weight', version: 'BOOGU_IMAGE' },
  { marker: 'model.diffusion_model.layers.0.adaLN_sa_ln.weight', version: 'ERNIE_IMAGE' },
  { marker: 'model.diffusion_model.adaln_single.emb.timestep_embedder.linear_1.bias', version: 'LTXAV' },
  { marker: 'model.diffusion_model.video_patch_proj.weight', version: 'MINIMAX_H3', also: 'model.diffusion_model.audio_patch_proj.weight' },
  { marker: 'model.diffusion_model.patch_embedder.weight', version: 'LINGBOT_VIDEO' },
  { marker: 'model.diffusion_model.input_blocks.8.0.time_mixer.mix_factor', version: 'SVD' },
]

const TOKEN_EMBEDDINGS = new Set([
  'cond_stage_model.transformer.text_model.embeddings.token_embedding.weight',
  'cond_stage_model.model.token_embedding.weight',
  'text_model.embeddings.token_embedding.weight',
  'te.text_model.embeddings.token_embedding.weight',
  'conditioner.embedders.0.model.token_embedding.weight',
  'conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight',
])
const INPUT_CONVS = new Set(['model.diffusion_model.input_blocks.0.0.weight', 'model.diffusion_model.img_in.weight', 'unet.conv_in.weight'])

/** ggml's ne[i] (innermost first) of a tensor given outermost first; 0 where unknown, as sd.cpp's zeroed TensorStorage. */
export function ne(tensor: TensorInfo | undefined, i: number): number {
  const shape = tensor?.shape
  if (!shape || i >= shape.length) return tensor?.shape ? 1 : 0
  return shape[shape.length - 1 - i]!
}

/**
 * stable-diffusion.cpp's ModelLoader::get_sd_version (model_loader.cpp:450-711) over a file's tensor names:
 * substring tests, a second text encoder beside a UNet for SDXL, the UNet's input channels (9 inpaint, 8 pix2pix),
 * no middle_block.1 for the distilled UNets, and the CLIP token embedding's width (768 SD1, 1024 SD2).
 */
export function sdModelVersion(tensors: readonly TensorInfo[]): SdModelVersion {
  // sd.cpp walks a std::map: names in byte order.
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const names = new Set(sorted.map((t) => t.name))
  let tokenEmbedding: TensorInfo | undefined
  let inputConv: TensorInfo | undefined
  let isUnet = false
  let hasMultipleEncoders = false
  let isFlux = false
  let isFlux2 = false
  let isWan = false
  let hasMiddleBlock1 = false
  let hasOutputBlock311 = false
  let hasOutputBlock71 = false
  let hasAttn1024 = false
  for (const tensor of sorted) {
    const name = tensor.name
    const has = (part: string): boolean => name.includes(part)
    if (has('model.diffusion_model.double_blocks.') || has('model.diffusion_model.single_transformer_blocks.')) isFlux = true
    for (const rule of EARLY) if (has(rule.marker) && (!rule.also || names.has(rule.also))) return rule.version
    if (has('model.diffusion_model.double_stream_modulation_img.lin.weight')) isFlux2 = true
    if (has('model.diffusion_model.blocks.0.cross_attn.norm_k.weight')) isWan = true
    if (has('model.diffusion_model.input_blocks.') || has('unet.down_blocks.')) isUnet = true
    if (has('conditioner.embedders.1') || has('cond_stage_model.1') || has('te.1')) hasMultipleEncoders = true
    if (has('model.diffusion_model.middle_block.1.') || has('unet.mid_block.resnets.1.')) hasMiddleBlock1 = true
    if (has('model.diffusion_model.output_blocks.3.1.transformer_blocks.1') || has('unet.up_blocks.1.attentions.0.transformer_blocks.1')) hasOutputBlock311 = true
    if (has('model.diffusion_model.output_blocks.7.1') || has('unet.up_blocks.2.attentions.1')) {
      hasOutputBlock71 = true
      if (has('model.diffusion_model.output_blocks.7.1.transformer_blocks.0.attn1.to_k.weight') && ne(tensor, 0) === 1024) hasAttn1024 = true
    }
    if (TOKEN_EMBEDDINGS.has(name)) tokenEmbedding = tensor
    if (INPUT_CONVS.has(name)) inputConv = tensor
  }
  if (isWan) return 'WAN2'
  const inChannels = ne(inputConv, 2)
  const isInpaint = inChannels === 9
  const isPix2pix = inChannels === 8
  if (isUnet && hasMultipleEncoders) {
    if (isInpaint) return 'SDXL_INPAINT'
    if (isPix2pix) return 'SDXL_PIX2PIX'
    if (!hasMiddleBlock1) return hasOutputBlock311 ? 'SDXL_SSD1B' : 'SDXL_VEGA'
    return 'SDXL'
  }
  if (isFlux2) return 'FLUX2'
  if (isFlux) return 'FLUX'
  const width = ne(tokenEmbedding, 0)
  if (width === 768) {
    if (isInpaint) return 'SD1_INPAINT'
    if (isPix2pix) return 'SD1_PIX2PIX'
    if (!hasMiddleBlock1) return hasOutputBlock71 ? 'SD1_TINY_UNET' : 'SDXS_512_DS'
    return 'SD1'
  }
  if (width === 1024) {
    if (isInpaint) return 'SD2_INPAINT'
    if (!hasMiddleBlock1) return hasAttn1024 ? 'SDXS_09' : 'SD2_TINY_UNET'
    return 'SD2'
  }
  return 'UNKNOWN'
}
