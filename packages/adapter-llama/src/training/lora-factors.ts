import type { TensorSpec } from '@cy/native'
import { truncatedSvd, type TruncatedSvdOptions } from './truncated-svd.ts'

/** One base tensor's change as the LoRA pair llama.cpp adds back, and how far the pair is from the change. */
export interface LoraFactors {
  tensors: [TensorSpec, TensorSpec]
  rank: number
  relativeError: number
}

/**
 * Factors `delta` (rows×cols row-major, as the tensor's PyTorch shape [rows, cols]; ggml dims [cols, rows]) into the
 * pair llama.cpp applies as `scale · alpha / rank · B·A`. With ΔW ≈ U·S·Vᵀ at `rank`, each side gets √S and
 * √(rank / alpha), so at scale 1 the pair adds ΔW back. A normal matrix (y = W·x) takes `.lora_a` = √S·Vᵀ (ggml dims
 * [cols, rank]) and `.lora_b` = U·√S (dims [rank, rows]); the token embedding, which llama.cpp looks rows up in
 * rather than multiplies by, takes them the other way round (`.lora_a` rows per token, ggml dims [rank, rows];
 * `.lora_b` dims [rank, cols]; see llm_graph_context::build_inp_embd). The error is measured on the f32 values
 * written, ‖ΔW − (alpha / rank)·B·A‖_F / ‖ΔW‖_F.
 */
export function loraFactors(name: string, delta: Float32Array, rows: number, cols: number, rank: number, alpha: number, svd?: TruncatedSvdOptions): LoraFactors {
  const r = Math.min(rank, rows, cols)
  const { u, s, v } = truncatedSvd(delta, rows, cols, r, svd)
  const factor = Math.sqrt(r / alpha)
  // left: rows×r (U·√S), right: cols×r (V·√S), both scaled for alpha.
  const left = new Float32Array(rows * r)
  const right = new Float32Array(cols * r)
  for (let c = 0; c < r; c++) {
    const weight = Math.sqrt(s[c]!) * factor
    for (let i = 0; i < rows; i++) left[i * r + c] = u[i * r + c]! * weight
    for (let j = 0; j < cols; j++) right[j * r + c] = v[j * r + c]! * weight
  }
  const relativeError = reconstructionError(delta, rows, cols, left, right, r, alpha / r)
  if (name.endsWith('token_embd.weight')) {
    return {
      tensors: [
        { name: `${name}.lora_a`, dims: [r, rows], data: left },
        { name: `${name}.lora_b`, dims: [r, cols], data: right },
      ],
      rank: r,
      relativeError,
    }
  }
  return {
    tensors: [
      { name: `${name}.lora_a`, dims: [cols, r], data: transpose(right, cols, r) },
      { name: `${name}.lora_b`, dims: [r, rows], data: left },
    ],
    rank: r,
    relativeError,
  }
}

/** ‖Δ − scale·L·Rᵀ‖_F / ‖Δ‖_F, with L rows×r and R cols×r. */
function reconstructionError(delta: Float32Array, rows: number, cols: number, left: Float32Array, right: Float32Array, r: number, scale: number): number {
  let error = 0
  let norm = 0
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let product = 0
      for (let c = 0; c < r; c++) product += left[i * r + c]! * right[j * r + c]!
      const value = delta[i * cols + j]!
      error += (value - scale * product) ** 2
      norm += value * value
    }
  }
  return norm === 0 ? 0 : Math.sqrt(error / norm)
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j]!
  return out
}
