import type { Pointer } from 'bun:ffi'
import { LlamaNative } from '../native/llama-native.ts'
import { TrainingInputError } from './training-input-error.ts'
import { TrainingModelError } from './training-model-error.ts'
import type { GraphPadding } from './graph-padding.ts'
import { TrainingNative } from './training-native.ts'

// llama.cpp pads a context to a multiple of 256 tokens, and a window must fill the context exactly.
const CONTEXT_STEP = 256

export interface TrainingRunOptions {
  /** The folder holding libllama and libggml (resolveLlamaLibrary's `dir`). */
  libDir: string
  /** An F32 GGUF model. */
  modelPath: string
  threads: number
  /** The window trained on: a multiple of 256 tokens. */
  contextSize: number
  /** Parts of tensor names to train (`attn_q.weight`; see TARGET_MODULES); none or empty: every tensor llama.cpp allows. */
  targets?: readonly string[]
  /** Room for the backward graph of a deep model (graphPadding): zero adapters loaded before the context is made. */
  padding?: GraphPadding
}

export interface BatchProgress {
  /** 1-based, within this epoch's training (or evaluation) windows. */
  step: number
  steps: number
  /** This window's mean cross-entropy per token. */
  loss: number
  train: boolean
}

export interface EpochOptions {
  /** AdamW's learning rate: one for the epoch, or one per training step (1-based, of `steps`), set before that step. */
  learningRate: number | ((step: number, steps: number) => number)
  beta1?: number
  beta2?: number
  eps?: number
  weightDecay?: number
  /** The fraction of the dataset's windows (the last ones) evaluated instead of trained on: [0, 1). */
  evalSplit?: number
  /** After each window, on this thread; `false` cancels the rest of the epoch. */
  onBatch?: (progress: BatchProgress) => boolean | void
}

export interface EpochResult {
  trainLoss: number
  evalLoss?: number
  cancelled: boolean
  /** Training windows run, and training tokens per second over them. */
  trainSteps: number
  tokensPerSecond: number
}

/**
 * Fine-tuning of a whole model through llama.cpp's own optimizer (llama_opt_init, llama_opt_epoch):
 * CPU only, F32 weights, AdamW, one optimizer step per window of `contextSize` tokens. Synchronous: run
 * it in its own process or Worker, never on a server's event loop.
 */
export class TrainingRun {
  readonly native: LlamaNative
  readonly contextSize: number
  readonly #training: TrainingNative
  readonly #model: Pointer
  readonly #state: Pointer
  readonly #context: Pointer
  readonly #resultTrain: Pointer
  readonly #resultEval: Pointer
  #dataset: { pointer: Pointer; windows: number } | undefined
  #disposed = false
  #adamw = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }

  constructor({ libDir, modelPath, threads, contextSize, targets = [], padding }: TrainingRunOptions) {
    if (!Number.isInteger(contextSize) || contextSize <= 0 || contextSize % CONTEXT_STEP !== 0) {
      throw new TrainingInputError(`contextSize must be a positive multiple of ${CONTEXT_STEP} tokens (llama.cpp pads its context to that), not ${contextSize}`)
    }
    this.native = new LlamaNative(libDir)
    const training = (this.#training = new TrainingNative(libDir))
    const model = training.loadModel(modelPath)
    if (!model) throw new TrainingModelError(`llama.cpp could not load the model at ${modelPath}`)
    this.#model = model
    this.#state = training.newState(targets)
    if (training.fileType(model) !== 0) {
      const description = this.native.describe(model)
      this.#freeModel()
      throw new TrainingModelError(
        `training needs a model with F32 weights, and ${modelPath} is ${description}: llama.cpp's optimizer updates F32 tensors only (it skips the others), so convert F16 or quantized models to F32 first`,
      )
    }
    // Loaded on the model (never set on a context) they only enlarge its graphs; the model frees them with itself.
    for (let i = 0; i < (padding?.count ?? 0); i++) {
      if (!this.native.loadLora(model, padding!.path)) {
        this.#freeModel()
        throw new TrainingModelError(`llama.cpp refused the graph padding adapter for ${modelPath}`)
      }
    }
    const context = training.newContext(model, this.#state, contextSize, threads)
    if (!context) {
      this.#freeModel()
      throw new TrainingModelError(`llama.cpp could not create a ${contextSize}-token training context for ${modelPath}`)
    }
    this.#context = context
    this.contextSize = contextSize
    // llama_opt_epoch computes on the CPU backend with the thread count the last llama_decode set (ggml's
    // default of 4 before any): one token decoded first sets `threads`, as llama-finetune's warm-up does.
    const vocab = this.native.vocab(model)
    const token = Math.max(0, this.native.calls.llama_vocab_bos(vocab))
    if (this.native.decode(context, Int32Array.of(token), Int32Array.of(0), Int32Array.of(0), Int8Array.of(1), 1) !== 0) {
      this.#freeModel()
      throw new TrainingModelError(`llama.cpp could not run the model at ${modelPath}`)
    }
    // llama_opt_init runs the filter over every F32 weight; nothing trains before the first epoch, so refusing here is clean.
    training.optInit(context, model, this.#state)
    const trained = this.trainedTensors()
    const unmatched = targets.filter((target) => !trained.some((name) => name.includes(target)))
    if (!trained.length || unmatched.length) {
      this.#freeModel()
      throw new TrainingInputError(`no F32 tensor llama.cpp can train matches ${JSON.stringify(unmatched.length ? unmatched : targets)} (token_embd and rope_freqs never train)`)
    }
    this.#resultTrain = training.newResult()
    this.#resultEval = training.newResult()
  }

  /** Tokenizes with the model's vocabulary (for building windows); `parseSpecial`: markup such as `<|im_start|>` is read as its token. */
  tokenize(text: string, addSpecial = true, parseSpecial = false): Int32Array {
    return this.native.tokenize(this.native.vocab(this.#model), text, addSpecial, parseSpecial)
  }

  /** The model's BOS and EOS tokens (-1 when it has none) and their texts, for a chat template. */
  specials(): { bos: number; eos: number; bosText: string; eosText: string } {
    const vocab = this.native.vocab(this.#model)
    const bos = this.native.calls.llama_vocab_bos(vocab)
    const eos = this.native.calls.llama_vocab_eos(vocab)
    const text = (token: number) => (token < 0 ? '' : new TextDecoder().decode(this.native.tokenBytes(vocab, token, true)))
    return { bos, eos, bosText: text(bos), eosText: text(eos) }
  }

  /** The text of tokens, as greedy decoding prints them (each token's bytes, specials left out). */
  detokenize(tokens: Int32Array): string {
    const vocab = this.native.vocab(this.#model)
    return new TextDecoder().decode(new Uint8Array([...tokens].flatMap((token) => [...this.native.tokenBytes(vocab, token, false)])))
  }

  /** The names of the tensors this run trains (token_embd and rope_freqs never are: llama.cpp excludes them). */
  trainedTensors(): string[] {
    return this.#training.tensors(this.#state).flatMap((tensor) => (tensor.trained ? [tensor.name] : []))
  }

  /** A hash of each weight's current bytes, by name: what changed between two calls. */
  tensorDigests(): Map<string, bigint> {
    return new Map(this.#training.tensors(this.#state).map((tensor, i) => [tensor.name, this.#training.tensorDigest(this.#state, i)]))
  }

  /** The windows to train on from now on: each `contextSize + 1` tokens (the labels are the window shifted by one). */
  dataset(windows: readonly Int32Array[]): void {
    this.#live()
    if (windows.length === 0) throw new TrainingInputError('the dataset has no windows')
    const bad = windows.findIndex((window) => window.length !== this.contextSize + 1)
    if (bad >= 0) throw new TrainingInputError(`window ${bad} has ${windows[bad]!.length} tokens; each needs contextSize + 1 = ${this.contextSize + 1}`)
    this.#freeDataset()
    this.#dataset = { pointer: this.#training.dataset(windows, this.contextSize), windows: windows.length }
  }

  /** One pass over the dataset (in order): the first windows train, the last `evalSplit` of them evaluate. */
  epoch({ learningRate, evalSplit = 0, onBatch, ...adamw }: EpochOptions): EpochResult {
    this.#live()
    const dataset = this.#dataset
    if (!dataset) throw new TrainingInputError('set a dataset before running an epoch')
    if (!(evalSplit >= 0 && evalSplit < 1)) throw new TrainingInputError(`evalSplit must be in [0, 1), not ${evalSplit}`)
    const split = Math.floor(dataset.windows * (1 - evalSplit))
    if (split < 1) throw new TrainingInputError(`evalSplit ${evalSplit} leaves no training window of ${dataset.windows}`)
    this.#adamw = { ...this.#adamw, ...adamw }
    const rate = typeof learningRate === 'function' ? learningRate : () => learningRate
    // The shim's optimizer callback reads these before each step's backward pass; ggml asserts a positive rate.
    const setRate = (step: number) => {
      const value = rate(step, split)
      if (!(value > 0) || !Number.isFinite(value)) throw new TrainingInputError(`learningRate must be a positive number, not ${value} (step ${step})`)
      this.#training.setOptimizer(this.#state, { learningRate: value, ...this.#adamw })
    }
    setRate(1)
    this.#training.resetResult(this.#resultTrain)
    this.#training.resetResult(this.#resultEval)

    // Means of the losses onBatch saw: after a cancel, the result objects also hold the aborted windows.
    const sums = { train: 0, eval: 0, trainSteps: 0, evalSteps: 0 }
    let failure: unknown
    const started = performance.now()
    let trainEnded = started
    const cancelled = this.#training.epoch(this.#context, this.#state, dataset.pointer, this.#resultTrain, this.#resultEval, split, (train, step, steps, loss) => {
      if (train) {
        sums.train += loss
        sums.trainSteps = step
        trainEnded = performance.now()
      } else {
        sums.eval += loss
        sums.evalSteps = step
      }
      try {
        if (onBatch?.({ step, steps, loss, train }) === false) return false
        if (train && step < split) setRate(step + 1)
        return true
      } catch (error) {
        // Nothing may throw through C: stop the epoch and rethrow after it.
        failure = error
        return false
      }
    })
    if (failure !== undefined) throw failure
    const seconds = (trainEnded - started) / 1000
    return {
      trainLoss: sums.trainSteps ? sums.train / sums.trainSteps : NaN,
      ...(sums.evalSteps ? { evalLoss: sums.eval / sums.evalSteps } : {}),
      cancelled,
      trainSteps: sums.trainSteps,
      tokensPerSecond: seconds > 0 ? (sums.trainSteps * this.contextSize) / seconds : 0,
    }
  }

  /** The whole fine-tuned model, as a GGUF llama.cpp loads (its context length becomes contextSize: llama_opt_init sets it). */
  save(path: string): void {
    this.#live()
    this.#training.save(this.#model, path)
  }

  dispose(): void {
    if (this.#disposed) return
    this.#freeDataset()
    this.#training.freeResult(this.#resultTrain)
    this.#training.freeResult(this.#resultEval)
    this.#freeModel()
  }

  #live(): void {
    if (this.#disposed) throw new TrainingInputError('this training run has been disposed')
  }

  #freeDataset(): void {
    if (this.#dataset) this.#training.freeDataset(this.#dataset.pointer)
    this.#dataset = undefined
  }

  /** Frees the context (when made), the model and the shim's state; the run is unusable after. */
  #freeModel(): void {
    this.#disposed = true
    if (this.#context) this.#training.freeContext(this.#context)
    this.#training.freeModel(this.#model)
    this.#training.freeState(this.#state)
  }
}
