/** libmtmd's file name on this platform (the build writes it, the engine and the smoke test open it). */
export const MTMD_FILE = `libmtmd${process.platform === 'darwin' ? '.dylib' : '.so'}`

/** The libmtmd C functions we call directly (pointers and scalars only), as bun:ffi declares them. */
export const MTMD_SYMBOLS = {
  mtmd_free: { args: ['ptr'], returns: 'void' },
  mtmd_support_vision: { args: ['ptr'], returns: 'bool' },
  mtmd_bitmap_free: { args: ['ptr'], returns: 'void' },
  mtmd_bitmap_init: { args: ['u32', 'u32', 'ptr'], returns: 'ptr' },
  mtmd_bitmap_set_id: { args: ['ptr', 'cstring'], returns: 'void' },
  mtmd_input_chunks_init: { args: [], returns: 'ptr' },
  mtmd_input_chunks_size: { args: ['ptr'], returns: 'usize' },
  mtmd_input_chunks_get: { args: ['ptr', 'usize'], returns: 'ptr' },
  mtmd_input_chunks_free: { args: ['ptr'], returns: 'void' },
  mtmd_input_chunk_get_type: { args: ['ptr'], returns: 'i32' },
  mtmd_input_chunk_get_tokens_text: { args: ['ptr', 'ptr'], returns: 'ptr' },
  mtmd_input_chunk_get_n_tokens: { args: ['ptr'], returns: 'usize' },
  mtmd_input_chunk_get_n_pos: { args: ['ptr'], returns: 'i32' },
  mtmd_input_chunk_get_id: { args: ['ptr'], returns: 'cstring' },
  mtmd_helper_eval_chunk_single: { args: ['ptr', 'ptr', 'ptr', 'i32', 'i32', 'i32', 'bool', 'ptr'], returns: 'i32' },
  mtmd_helper_log_set: { args: ['ptr', 'ptr'], returns: 'void' },
  // Resolved only for their addresses: the shim calls them with structs by value.
  mtmd_context_params_default: { args: [], returns: 'void' },
  mtmd_init_from_file: { args: [], returns: 'void' },
  mtmd_helper_init_opt_default: { args: [], returns: 'void' },
  mtmd_helper_bitmap_init_from_buf: { args: [], returns: 'void' },
  mtmd_tokenize: { args: [], returns: 'void' },
} as const

/** The shim's functions (see mtmd-shim.c). */
export const MTMD_SHIM_SYMBOLS = {
  cy_mtmd_init: { args: ['ptr', 'ptr', 'cstring', 'ptr', 'i32', 'i32', 'cstring', 'i32'], returns: 'ptr' },
  cy_mtmd_bitmap_from_buf: { args: ['ptr', 'ptr', 'ptr', 'ptr', 'usize'], returns: 'ptr' },
  cy_mtmd_tokenize: { args: ['ptr', 'ptr', 'ptr', 'ptr', 'usize', 'i32', 'i32', 'ptr', 'usize'], returns: 'i32' },
  cy_mtmd_quiet_logs: { args: ['ptr'], returns: 'void' },
} as const

/** mtmd_input_chunk_type. */
export const CHUNK_TEXT = 0
export const CHUNK_IMAGE = 1
