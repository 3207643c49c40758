import type { TensorIndex } from '@cy/native'
import { LlamaNative } from '../native/llama-native.ts'
import { TrainingModelError } from './training-model-error.ts'
import { TrainingNative } from './training-native.ts'

// ggml's F32 type number: the only one llama.cpp's optimizer updates.
const F32 = '0'

/** The type of a model's first matrix that is not F32, or undefined when every matrix is (what training needs). */
export function nonF32Type(index: TensorIndex): string | undefined {
  return index.tensors.find((tensor) => (tensor.shape?.length ?? 0) >= 2 && tensor.dtype !== F32)?.dtype
}

/**
 * The model rewritten at `output` with every tensor in F32, dequantized by llama.cpp itself
 * (llama_model_quantize to ALL_F32, every quantized and half type read as inference reads it). Synchronous
 * and heavy: for the training engine process.
 */
export function writeF32Model({ libDir, input, output, threads }: { libDir: string; input: string; output: string; threads: number }): void {
  // LlamaNative loads the backends and initializes llama.cpp, which TrainingNative expects.
  new LlamaNative(libDir)
  if (!new TrainingNative(libDir).dequantize(input, output, threads)) throw new TrainingModelError(`llama.cpp could not convert ${input} to F32 for training`)
}
