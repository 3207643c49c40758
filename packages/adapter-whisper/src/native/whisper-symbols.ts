/** The whisper.cpp C functions called directly (pointers and scalars only), as bun:ffi declares them. */
export const WHISPER_SYMBOLS = {
  whisper_version: { args: [], returns: 'cstring' },
  whisper_print_system_info: { args: [], returns: 'cstring' },
  whisper_free: { args: ['ptr'], returns: 'void' },
  whisper_init_state: { args: ['ptr'], returns: 'ptr' },
  whisper_free_state: { args: ['ptr'], returns: 'void' },
  whisper_is_multilingual: { args: ['ptr'], returns: 'i32' },
  whisper_lang_id: { args: ['cstring'], returns: 'i32' },
  whisper_lang_str: { args: ['i32'], returns: 'cstring' },
  whisper_full_n_segments_from_state: { args: ['ptr'], returns: 'i32' },
  whisper_full_lang_id_from_state: { args: ['ptr'], returns: 'i32' },
  whisper_full_get_segment_t0_from_state: { args: ['ptr', 'i32'], returns: 'i64' },
  whisper_full_get_segment_t1_from_state: { args: ['ptr', 'i32'], returns: 'i64' },
  whisper_full_get_segment_text_from_state: { args: ['ptr', 'i32'], returns: 'ptr' },
  whisper_full_get_segment_no_speech_prob_from_state: { args: ['ptr', 'i32'], returns: 'f32' },
  whisper_full_n_tokens_from_state: { args: ['ptr', 'i32'], returns: 'i32' },
  whisper_full_get_token_id_from_state: { args: ['ptr', 'i32', 'i32'], returns: 'i32' },
  whisper_token_to_str: { args: ['ptr', 'i32'], returns: 'ptr' },
  whisper_token_eot: { args: ['ptr'], returns: 'i32' },
  // Resolved only for their addresses: the shim calls them with structs by value.
  whisper_context_default_params: { args: [], returns: 'void' },
  whisper_init_from_file_with_params: { args: [], returns: 'void' },
  whisper_full_default_params: { args: [], returns: 'void' },
  whisper_full_with_state: { args: [], returns: 'void' },
  whisper_full_get_token_data_from_state: { args: [], returns: 'void' },
  whisper_log_set: { args: [], returns: 'void' },
} as const

/** The shim's functions (see whisper-shim.c). */
export const WHISPER_SHIM_SYMBOLS = {
  cy_whisper_init: { args: ['ptr', 'ptr', 'cstring', 'i32', 'i32'], returns: 'ptr' },
  cy_whisper_full: {
    args: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'ptr', 'ptr', 'f32', 'i32', 'i32', 'i32', 'ptr', 'ptr', 'ptr'],
    returns: 'i32',
  },
  cy_whisper_token_data: { args: ['ptr', 'ptr', 'i32', 'i32', 'ptr'], returns: 'void' },
  cy_whisper_quiet_logs: { args: ['ptr'], returns: 'void' },
} as const
