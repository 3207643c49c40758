/** llama.cpp's training entry points and what it saves with, as bun:ffi declares them (pointers and scalars only). */
export const TRAINING_LLAMA_SYMBOLS = {
  llama_model_free: { args: ['ptr'], returns: 'void' },
  llama_free: { args: ['ptr'], returns: 'void' },
  llama_model_ftype: { args: ['ptr'], returns: 'i32' },
  llama_model_save_to_file: { args: ['ptr', 'cstring'], returns: 'void' },
  // Resolved only for their addresses: the shim calls them with structs by value or C callbacks.
  llama_model_default_params: { args: [], returns: 'void' },
  llama_model_load_from_file: { args: [], returns: 'void' },
  llama_context_default_params: { args: [], returns: 'void' },
  llama_init_from_model: { args: [], returns: 'void' },
  llama_opt_init: { args: [], returns: 'void' },
  llama_opt_epoch: { args: [], returns: 'void' },
  llama_model_quantize_default_params: { args: [], returns: 'void' },
  llama_model_quantize: { args: [], returns: 'void' },
} as const

/** From libggml-base: ggml-opt's datasets and results, and the tensor accessors the shim needs. */
export const TRAINING_GGML_SYMBOLS = {
  ggml_opt_dataset_init: { args: ['i32', 'i32', 'i64', 'i64', 'i64', 'i64'], returns: 'ptr' },
  ggml_opt_dataset_free: { args: ['ptr'], returns: 'void' },
  ggml_opt_dataset_data: { args: ['ptr'], returns: 'ptr' },
  ggml_opt_dataset_labels: { args: ['ptr'], returns: 'ptr' },
  ggml_get_data: { args: ['ptr'], returns: 'ptr' },
  ggml_opt_result_init: { args: [], returns: 'ptr' },
  ggml_opt_result_free: { args: ['ptr'], returns: 'void' },
  ggml_opt_result_reset: { args: ['ptr'], returns: 'void' },
  ggml_opt_result_loss: { args: ['ptr', 'ptr', 'ptr'], returns: 'void' },
  // Resolved only for their addresses: the shim calls them.
  ggml_get_name: { args: [], returns: 'void' },
  ggml_nbytes: { args: [], returns: 'void' },
  ggml_backend_tensor_get: { args: [], returns: 'void' },
  ggml_opt_get_default_optimizer_params: { args: [], returns: 'void' },
} as const

/** The shim's functions (see training-shim.c). */
export const TRAINING_SHIM_SYMBOLS = {
  cy_train_state_new: { args: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr'], returns: 'ptr' },
  cy_train_state_free: { args: ['ptr'], returns: 'void' },
  cy_train_add_pattern: { args: ['ptr', 'cstring'], returns: 'void' },
  cy_train_set_optimizer: { args: ['ptr', 'f32', 'f32', 'f32', 'f32', 'f32'], returns: 'void' },
  cy_train_model_load: { args: ['ptr', 'ptr', 'cstring'], returns: 'ptr' },
  cy_train_context_new: { args: ['ptr', 'ptr', 'ptr', 'ptr', 'u32', 'i32'], returns: 'ptr' },
  cy_train_opt_init: { args: ['ptr', 'ptr', 'ptr', 'ptr'], returns: 'void' },
  cy_train_epoch: { args: ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i64', 'ptr'], returns: 'i32' },
  cy_train_tensor_count: { args: ['ptr'], returns: 'i32' },
  cy_train_tensor_name: { args: ['ptr', 'i32'], returns: 'cstring' },
  cy_train_tensor_chosen: { args: ['ptr', 'i32'], returns: 'i32' },
  cy_train_tensor_digest: { args: ['ptr', 'i32'], returns: 'u64' },
  cy_train_dequantize: { args: ['ptr', 'ptr', 'cstring', 'cstring', 'i32'], returns: 'u32' },
} as const
