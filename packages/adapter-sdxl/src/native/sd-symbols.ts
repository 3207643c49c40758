/** The stable-diffusion.cpp C functions called directly (pointers and scalars only), as bun:ffi declares them. */
export const SD_SYMBOLS = {
  sd_commit: { args: [], returns: 'cstring' },
  sd_version: { args: [], returns: 'cstring' },
  sd_get_system_info: { args: [], returns: 'cstring' },
  free_sd_ctx: { args: ['ptr'], returns: 'void' },
  free_sd_images: { args: ['ptr', 'i32'], returns: 'void' },
  sd_cancel_generation: { args: ['ptr', 'i32'], returns: 'void' },
  sd_set_progress_callback: { args: ['ptr', 'ptr'], returns: 'void' },
  sd_set_preview_callback: { args: ['ptr', 'i32', 'i32', 'bool', 'bool', 'ptr'], returns: 'void' },
  str_to_sample_method: { args: ['cstring'], returns: 'i32' },
  str_to_scheduler: { args: ['cstring'], returns: 'i32' },
  sd_sample_method_name: { args: ['i32'], returns: 'cstring' },
  sd_scheduler_name: { args: ['i32'], returns: 'cstring' },
  sd_get_default_sample_method: { args: ['ptr'], returns: 'i32' },
  sd_get_default_scheduler: { args: ['ptr', 'i32'], returns: 'i32' },
  // Resolved only for their addresses: the shim calls them with its heap structs.
  sd_ctx_params_init: { args: [], returns: 'void' },
  new_sd_ctx: { args: [], returns: 'void' },
  sd_img_gen_params_init: { args: [], returns: 'void' },
  generate_image: { args: [], returns: 'void' },
  sd_set_log_callback: { args: [], returns: 'void' },
} as const

/** The shim's functions (see sd-shim.c). */
export const SD_SHIM_SYMBOLS = {
  cy_sd_ctx_params_new: { args: ['ptr'], returns: 'ptr' },
  cy_sd_ctx_params_free: { args: ['ptr'], returns: 'void' },
  cy_sd_ctx_set_paths: { args: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr'], returns: 'void' },
  cy_sd_ctx_set_options: { args: ['ptr', 'i32', 'i32', 'i32', 'i32'], returns: 'void' },
  cy_sd_ctx_set_backends: { args: ['ptr', 'ptr', 'ptr'], returns: 'void' },
  cy_sd_new_ctx: { args: ['ptr', 'ptr'], returns: 'ptr' },
  cy_sd_gen_params_new: { args: ['ptr'], returns: 'ptr' },
  cy_sd_gen_params_free: { args: ['ptr'], returns: 'void' },
  cy_sd_gen_set_prompts: { args: ['ptr', 'ptr', 'ptr', 'i32'], returns: 'void' },
  cy_sd_gen_set_size: { args: ['ptr', 'i32', 'i32', 'i32', 'i64'], returns: 'void' },
  cy_sd_gen_set_sampling: { args: ['ptr', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32'], returns: 'void' },
  cy_sd_gen_set_init_image: { args: ['ptr', 'i32', 'i32', 'i32', 'ptr'], returns: 'void' },
  cy_sd_gen_set_mask: { args: ['ptr', 'i32', 'i32', 'ptr'], returns: 'void' },
  cy_sd_gen_set_ref_image: { args: ['ptr', 'i32', 'i32', 'i32', 'ptr'], returns: 'void' },
  cy_sd_gen_set_lora_count: { args: ['ptr', 'i32'], returns: 'i32' },
  cy_sd_gen_set_lora: { args: ['ptr', 'i32', 'ptr', 'f32'], returns: 'void' },
  cy_sd_gen_set_vae_tiling: { args: ['ptr', 'i32'], returns: 'void' },
  cy_sd_generate: { args: ['ptr', 'ptr', 'ptr', 'ptr'], returns: 'i32' },
  cy_sd_image_at: { args: ['ptr', 'i32', 'ptr'], returns: 'ptr' },
  cy_sd_set_logs: { args: ['ptr', 'i32'], returns: 'void' },
  cy_sd_quiet_progress: { args: ['ptr'], returns: 'void' },
} as const

/** sd_cancel_mode_t */
export const SD_CANCEL_ALL = 0
export const SD_CANCEL_RESET = 2

/** preview_t */
export const PREVIEW = { none: 0, proj: 1, tae: 2, vae: 3 } as const
