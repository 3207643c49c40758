import { compileShim, cstr, functionAddress as fn, type Calls } from '@cy/native'
import { dlopen, JSCallback, ptr, toArrayBuffer, type Pointer } from 'bun:ffi'
import { join } from 'node:path'
import { findLibrary } from '../native/llama-native.ts'
import { TRAINING_GGML_SYMBOLS, TRAINING_LLAMA_SYMBOLS, TRAINING_SHIM_SYMBOLS } from './training-symbols.ts'

const SHIM_SOURCE = join(import.meta.dir, 'training-shim.c')
const HEADERS = join(import.meta.dir, '..', '..', 'vendor', 'llama.cpp', 'include')
const GGML_TYPE_I32 = 26

type GgmlCalls = Calls<ReturnType<typeof dlopen<typeof TRAINING_GGML_SYMBOLS>>['symbols']>

export interface AdamW {
  learningRate: number
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
}

/** Called after each window of an epoch (training or evaluation); false cancels the rest of the epoch. */
export type BatchCallback = (train: boolean, step: number, steps: number, loss: number) => boolean

/**
 * The typed wrapper over llama.cpp's training API: every pointer, buffer and string conversion lives
 * here. The libraries must already be set up by a LlamaNative (backends loaded, llama_backend_init).
 */
export class TrainingNative {
  readonly llama
  readonly ggml
  readonly shim: ReturnType<typeof compileShim<typeof TRAINING_SHIM_SYMBOLS>>
  readonly #calls: GgmlCalls

  constructor(libDir: string) {
    const llamaFile = findLibrary(libDir, 'libllama')
    const ggmlBase = findLibrary(libDir, 'libggml-base')
    if (!llamaFile || !ggmlBase) throw new Error(`No libllama/libggml-base shared libraries in ${libDir}`)
    this.llama = dlopen(join(libDir, llamaFile), TRAINING_LLAMA_SYMBOLS)
    this.ggml = dlopen(join(libDir, ggmlBase), TRAINING_GGML_SYMBOLS)
    this.#calls = this.ggml.symbols as unknown as GgmlCalls
    this.shim = compileShim(SHIM_SOURCE, [HEADERS], TRAINING_SHIM_SYMBOLS)
  }

  /** The shim's per-run state: the target patterns (none: all tensors), AdamW's parameters, progress. */
  newState(targets: readonly string[]): Pointer {
    const g = this.ggml.symbols
    const state = this.shim.symbols.cy_train_state_new(fn(g.ggml_opt_get_default_optimizer_params), fn(g.ggml_get_name), fn(g.ggml_nbytes), fn(g.ggml_backend_tensor_get), fn(g.ggml_opt_result_loss))!
    for (const target of targets) this.shim.symbols.cy_train_add_pattern(state, cstr(target))
    return state
  }

  freeState(state: Pointer): void {
    this.shim.symbols.cy_train_state_free(state)
  }

  /** `input` rewritten at `output` with every tensor in F32 (dequantized by llama.cpp); false when it fails. */
  dequantize(input: string, output: string, threads: number): boolean {
    const s = this.llama.symbols
    return this.shim.symbols.cy_train_dequantize(fn(s.llama_model_quantize_default_params), fn(s.llama_model_quantize), cstr(input), cstr(output), threads) === 0
  }

  /** The model on the CPU, its weights writable (no mmap); null when llama.cpp cannot load it. */
  loadModel(path: string): Pointer | null {
    const s = this.llama.symbols
    return this.shim.symbols.cy_train_model_load(fn(s.llama_model_default_params), fn(s.llama_model_load_from_file), cstr(path))
  }

  newContext(model: Pointer, state: Pointer, window: number, threads: number): Pointer | null {
    const s = this.llama.symbols
    return this.shim.symbols.cy_train_context_new(fn(s.llama_context_default_params), fn(s.llama_init_from_model), model, state, window, threads)
  }

  /** llama_opt_init with the shim's tensor filter and optimizer-parameter callbacks. */
  optInit(context: Pointer, model: Pointer, state: Pointer): void {
    this.shim.symbols.cy_train_opt_init(fn(this.llama.symbols.llama_opt_init), context, model, state)
  }

  /** llama_ftype: 0 is all F32; 1024 is added where the file does not say and llama.cpp guessed it from the tensors. */
  fileType(model: Pointer): number {
    return this.llama.symbols.llama_model_ftype(model) & ~1024
  }

  /** Every tensor llama.cpp offered the filter, and whether it is trained. */
  tensors(state: Pointer): Array<{ name: string; trained: boolean }> {
    const s = this.shim.symbols
    return Array.from({ length: s.cy_train_tensor_count(state) }, (_, i) => ({ name: String(s.cy_train_tensor_name(state, i)), trained: s.cy_train_tensor_chosen(state, i) !== 0 }))
  }

  /** A hash of tensor `index`'s current bytes (index into `tensors`). */
  tensorDigest(state: Pointer, index: number): bigint {
    return BigInt(this.shim.symbols.cy_train_tensor_digest(state, index))
  }

  setOptimizer(state: Pointer, adamw: AdamW): void {
    this.shim.symbols.cy_train_set_optimizer(state, adamw.learningRate, adamw.beta1, adamw.beta2, adamw.eps, adamw.weightDecay)
  }

  /** A ggml-opt dataset of token windows: each datapoint is `window` tokens, its labels the next token of each. */
  dataset(windows: readonly Int32Array[], window: number): Pointer {
    const g = this.#calls
    const dataset = g.ggml_opt_dataset_init(GGML_TYPE_I32, GGML_TYPE_I32, window, window, windows.length, 1)!
    const data = new Int32Array(toArrayBuffer(g.ggml_get_data(g.ggml_opt_dataset_data(dataset)!)!, 0, windows.length * window * 4))
    const labels = new Int32Array(toArrayBuffer(g.ggml_get_data(g.ggml_opt_dataset_labels(dataset)!)!, 0, windows.length * window * 4))
    windows.forEach((tokens, i) => {
      data.set(tokens.subarray(0, window), i * window)
      labels.set(tokens.subarray(1, window + 1), i * window)
    })
    return dataset
  }

  freeDataset(dataset: Pointer): void {
    this.ggml.symbols.ggml_opt_dataset_free(dataset)
  }

  newResult(): Pointer {
    return this.#calls.ggml_opt_result_init()!
  }

  freeResult(result: Pointer): void {
    this.ggml.symbols.ggml_opt_result_free(result)
  }

  resetResult(result: Pointer): void {
    this.ggml.symbols.ggml_opt_result_reset(result)
  }

  /**
   * llama_opt_epoch over the dataset, `onBatch` called synchronously on this thread after each window.
   * Returns whether onBatch cancelled it.
   */
  epoch(context: Pointer, state: Pointer, dataset: Pointer, resultTrain: Pointer, resultEval: Pointer, split: number, onBatch: BatchCallback): boolean {
    const callback = new JSCallback(onBatch, { args: ['bool', 'i32', 'i32', 'f64'], returns: 'bool' })
    try {
      return this.shim.symbols.cy_train_epoch(fn(this.llama.symbols.llama_opt_epoch), context, state, dataset, resultTrain, resultEval, split, callback.ptr!) !== 0
    } finally {
      callback.close()
    }
  }

  save(model: Pointer, path: string): void {
    this.llama.symbols.llama_model_save_to_file(model, cstr(path))
  }

  freeContext(context: Pointer): void {
    this.llama.symbols.llama_free(context)
  }

  freeModel(model: Pointer): void {
    this.llama.symbols.llama_model_free(model)
  }
}
