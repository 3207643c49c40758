import { encodeGguf, type TensorIndex, type TensorSpec } from '@cy/native'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** What llama.cpp gives a context's graphs: max(1024, 8 × the model's tensors) nodes (graph_max_nodes). */
const budget = (tensors: number) => Math.max(1024, 8 * tensors)
/**
 * What a training step needs: the forward graph and its backward pass fit in one graph of that size
 * (ggml_graph_dup in ggml_opt_build). Measured on the tiny llama: 7 layers (66 tensors) fit in 1024 nodes, 8
 * do not, so about 16 a tensor; 24 leaves room for a layout with more nodes per tensor (biases, norms).
 */
const needed = (tensors: number) => 24 * tensors + 256
/** Each LoRA adapter loaded on a model adds 6 nodes per tensor pair to the size (llama_adapter_lora::get_n_nodes). */
const NODES_PER_PAIR = 6

export interface GraphPadding {
  /** A LoRA adapter of zero rank-1 pairs for the model's matrices, to load `count` times. */
  path: string
  count: number
}

/**
 * Room for llama_opt's backward graph in a model of many layers. llama.cpp sizes a context's graph for
 * inference, and from about 8 layers on the backward pass overflows it (GGML_ASSERT(cgraph->n_nodes <
 * cgraph->size) in ggml_build_backward_expand: llama-finetune aborts the same way). The size grows with the
 * adapters loaded on the model, so zero adapters, loaded (never applied) before the training context is made,
 * make the room; they change no weight and no result. `index`: the model's (readGguf). Undefined when it needs none.
 */
export async function graphPadding(index: TensorIndex, dir: string): Promise<GraphPadding | undefined> {
  const tensors = index.tensors.length
  const missing = needed(tensors) - budget(tensors)
  if (missing <= 0) return undefined
  // Matrices llama.cpp applies a LoRA to (not the token embedding, which it reads by row).
  const matrices = index.tensors.filter((tensor) => tensor.shape?.length === 2 && (tensor.name.startsWith('blk.') || tensor.name === 'output.weight'))
  if (!matrices.length) return undefined
  const pairs: TensorSpec[] = matrices.flatMap((tensor) => {
    // readGguf's shape is [rows, columns] = ggml's [ne1, ne0]: the input is ne0.
    const [output, input] = tensor.shape as [number, number]
    return [
      { name: `${tensor.name}.lora_a`, dims: [input, 1], data: new Float32Array(input) },
      { name: `${tensor.name}.lora_b`, dims: [1, output], data: new Float32Array(output) },
    ]
  })
  const path = join(dir, 'graph-padding.gguf')
  const metadata = {
    'general.architecture': { type: 'string', value: String(index.metadata['general.architecture']) },
    'general.type': { type: 'string', value: 'adapter' },
    'adapter.type': { type: 'string', value: 'lora' },
    'adapter.lora.alpha': { type: 'f32', value: 1 },
  } as const
  await writeFile(path, encodeGguf(metadata, pairs))
  return { path, count: Math.ceil(missing / (NODES_PER_PAIR * matrices.length)) }
}
