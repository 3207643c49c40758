/** One tensor of a model file, as its header describes it (the data is never read). */
export interface TensorInfo {
  name: string
  /** Outermost dimension first, as PyTorch and safetensors write it; null where the format does not say (a pickle read by its strings). */
  shape: number[] | null
  /** The file's own type name: safetensors' dtype (`F16`), a GGUF ggml type number as text (`1`), or `torch` for a .ckpt. */
  dtype: string
}

export type CheckpointFormat = 'safetensors' | 'gguf' | 'ckpt'

/** The tensors of a model file and its string metadata (safetensors' `__metadata__`, GGUF's string key/values). */
export interface TensorIndex {
  format: CheckpointFormat
  tensors: TensorInfo[]
  metadata: Record<string, string>
  /** GGUF only: where each tensor's bytes start in the file, by name (the data section plus the tensor's offset). */
  dataOffsets?: Map<string, number>
}
