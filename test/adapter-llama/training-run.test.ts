import { resolveLlamaLibrary } from '@cy/adapter-llama'
import { readGguf, withFile } from '../../packages/native/src/index.ts'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TrainingModelError } from '../../packages/adapter-llama/src/training/training-model-error.ts'
import { TrainingRun, type BatchProgress } from '../../packages/adapter-llama/src/training/training-run.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { referenceGreedy } from './reference-greedy.ts'

// Fine-tuning through llama.cpp's own optimizer (llama_opt_init / llama_opt_epoch) on the tiny f32 llama:
// one sentence repeated, learned well enough that greedy decoding of the saved model recites it. The
// sentence's every token has one successor: llama.cpp never trains token_embd, and this 2-layer model
// learns longer-range patterns (a word after a space) too slowly for a test.
const dir = mkdtempSync(join(tmpdir(), 'cy-training-'))
const SENTENCE = 'Quick fox.\n'
const PREFIX = 'Quick'
const RATE = 3e-3
const CONTEXT = 256
// Every matrix but ffn_up, so a weight llama.cpp could train is left alone and must not change.
const TARGETS = ['attn_q.weight', 'attn_k.weight', 'attn_v.weight', 'attn_output.weight', 'ffn_gate.weight', 'ffn_down.weight', 'output.weight']
let libDir: string
let modelPath: string

beforeAll(async () => {
  libDir = (await resolveLlamaLibrary(undefined)).dir
  modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const newRun = (path = modelPath) => new TrainingRun({ libDir, modelPath: path, threads: 1, contextSize: CONTEXT, targets: TARGETS })

/** Windows of CONTEXT + 1 tokens over the sentence repeated, every 8 tokens. */
function sentenceWindows(run: TrainingRun): Int32Array[] {
  const stream = run.tokenize(SENTENCE.repeat(60))
  const windows: Int32Array[] = []
  for (let start = 0; start + CONTEXT + 1 <= stream.length; start += 8) windows.push(stream.slice(start, start + CONTEXT + 1))
  return windows
}

/** Linear decay to 0 over `epochs` epochs: the rate for step `step` of epoch `epoch`. */
const decay = (epoch: number, epochs: number) => (step: number, steps: number) => RATE * (1 - (epoch * steps + step - 1) / (epochs * steps))

describe('TrainingRun', () => {
  test('two epochs halve the loss, train only the targets, and the saved model recites the sentence', async () => {
    const run = newRun()
    try {
      const offered = [...run.tensorDigests().keys()]
      expect(run.trainedTensors().sort()).toEqual(offered.filter((name) => TARGETS.some((target) => name.includes(target))).sort())
      expect(run.trainedTensors()).toContain('blk.0.attn_q.weight')
      const before = run.tensorDigests()
      run.dataset(sentenceWindows(run))
      const progress: BatchProgress[] = []
      const first = run.epoch({ learningRate: decay(0, 2), onBatch: (p) => void progress.push(p) })
      const second = run.epoch({ learningRate: decay(1, 2) })
      expect(progress.length).toBe(first.trainSteps)
      expect(progress.every((p) => p.train && p.steps === first.trainSteps && Number.isFinite(p.loss))).toBe(true)
      expect(first.trainLoss).toBeCloseTo(progress.reduce((sum, p) => sum + p.loss, 0) / progress.length, 5)
      expect(second.trainLoss).toBeLessThan(first.trainLoss / 2)
      expect(first.tokensPerSecond).toBeGreaterThan(0)

      const after = run.tensorDigests()
      expect(after.get('blk.0.attn_q.weight')).not.toBe(before.get('blk.0.attn_q.weight'))
      expect(after.get('output.weight')).not.toBe(before.get('output.weight'))
      for (const name of ['blk.0.ffn_up.weight', 'blk.1.ffn_up.weight', 'blk.0.attn_norm.weight', 'output_norm.weight']) expect(after.get(name)).toBe(before.get(name))
      // Targeted, yet unchanged: llama.cpp attends over its KV cache's copy of K and V, so no gradient reaches
      // attn_k and attn_v. The jobs' warning for k_proj and v_proj says so; this fails when llama.cpp changes.
      for (const name of ['blk.0.attn_k.weight', 'blk.1.attn_v.weight']) expect(after.get(name)).toBe(before.get(name))

      const saved = join(dir, 'tuned.gguf')
      run.save(saved)
      const [base, tuned] = await Promise.all([modelPath, saved].map((path) => withFile(path, readGguf)))
      expect(tuned!.tensors.map((t) => t.name).sort()).toEqual(base!.tensors.map((t) => t.name).sort())
      expect(tuned!.tensors.every((t) => t.dtype === '0')).toBe(true)
      // The saved file agrees: a tensor outside the targets keeps its bytes, a target's changed.
      const bytesOf = (path: string, name: string) =>
        withFile(path, async (file) => {
          const index = await readGguf(file)
          const shape = index.tensors.find((t) => t.name === name)!.shape!
          return file.read(index.dataOffsets!.get(name)!, shape.reduce((a, b) => a * b, 4), name)
        })
      expect(await bytesOf(saved, 'blk.0.ffn_up.weight')).toEqual(await bytesOf(modelPath, 'blk.0.ffn_up.weight'))
      expect(await bytesOf(saved, 'blk.0.attn_q.weight')).not.toEqual(await bytesOf(modelPath, 'blk.0.attn_q.weight'))
      // The rest of the sentence and the next one, as greedy decoding prints those tokens (a space as '▁').
      const tokens = run.tokenize(SENTENCE.slice(PREFIX.length) + SENTENCE, false)
      const rest = run.detokenize(tokens)
      expect(rest).toBe('▁fox.\nQuick▁fox.\n')
      expect(referenceGreedy(libDir, saved, PREFIX, tokens.length, { threads: 1 })).toBe(rest)
      expect(referenceGreedy(libDir, modelPath, PREFIX, tokens.length, { threads: 1 })).not.toBe(rest)
    } finally {
      run.dispose()
    }
  })

  test('an eval split evaluates the last windows after training on the rest', () => {
    const run = newRun()
    try {
      const windows = sentenceWindows(run)
      run.dataset(windows)
      const seen: BatchProgress[] = []
      const result = run.epoch({ learningRate: 1e-3, evalSplit: 0.25, onBatch: (p) => void seen.push(p) })
      const evalWindows = windows.length - Math.floor(windows.length * 0.75)
      expect(seen.filter((p) => !p.train).length).toBe(evalWindows)
      expect(result.trainSteps).toBe(windows.length - evalWindows)
      expect(result.evalLoss).toBeGreaterThan(0)
    } finally {
      run.dispose()
    }
  })

  test('onBatch returning false stops the epoch after that window: the weights are those of exactly that many steps', () => {
    const cancelled = newRun()
    const reference = newRun()
    try {
      const windows = sentenceWindows(cancelled)
      cancelled.dataset(windows)
      let calls = 0
      const result = cancelled.epoch({ learningRate: 1e-2, onBatch: () => ++calls < 2 })
      expect(result.cancelled).toBe(true)
      expect(calls).toBe(2)
      expect(result.trainSteps).toBe(2)
      // The same two windows trained on their own, with nothing after them.
      reference.dataset(windows.slice(0, 2))
      expect(reference.epoch({ learningRate: 1e-2 }).cancelled).toBe(false)
      expect(cancelled.tensorDigests()).toEqual(reference.tensorDigests())
    } finally {
      cancelled.dispose()
      reference.dispose()
    }
  })

  test('a model saved inside an epoch (a checkpoint) and epochs run in chunks (an eval between) train exactly as one epoch', async () => {
    const bytes = (path: string) => Bun.file(path).bytes()
    const rate = (step: number) => 1e-3 * step
    const trained = async (path: string, train: (run: TrainingRun, windows: Int32Array[]) => void) => {
      const run = newRun()
      try {
        train(run, sentenceWindows(run).slice(0, 6))
        if (!(await Bun.file(path).exists())) run.save(path)
      } finally {
        run.dispose()
      }
      return bytes(path)
    }
    // Saved from onBatch after step 3 of 6, against 3 windows trained alone.
    const inside = await trained(join(dir, 'inside.gguf'), (run, windows) => {
      run.dataset(windows)
      run.epoch({ learningRate: rate, onBatch: ({ step }) => void (step === 3 && run.save(join(dir, 'inside.gguf'))) })
    })
    const three = await trained(join(dir, 'three.gguf'), (run, windows) => {
      run.dataset(windows.slice(0, 3))
      run.epoch({ learningRate: rate })
    })
    expect(inside).toEqual(three)
    // 6 windows in one epoch, against two epochs of 3, each evaluating a held-out window after.
    const one = await trained(join(dir, 'one.gguf'), (run, windows) => {
      run.dataset(windows)
      run.epoch({ learningRate: rate })
    })
    const chunked = await trained(join(dir, 'chunked.gguf'), (run, windows) => {
      for (const offset of [0, 3]) {
        run.dataset([...windows.slice(offset, offset + 3), windows[5]!])
        expect(run.epoch({ learningRate: (step) => rate(offset + step), evalSplit: 0.2 }).evalLoss).toBeGreaterThan(0)
      }
    })
    expect(chunked).toEqual(one)
    expect(one).not.toEqual(three)
  })

  test('a quantized model is refused, naming the F32 requirement', async () => {
    const quantized = await writeTinyLlama(join(dir, 'tiny-q8.gguf'), { quantize: true })
    expect(() => newRun(quantized)).toThrow(TrainingModelError)
    expect(() => newRun(quantized)).toThrow(/needs a model with F32 weights, and .* is .*Q8_0.*convert F16 or quantized models to F32/)
  })

  test('bad windows and options are refused before anything runs', () => {
    expect(() => new TrainingRun({ libDir, modelPath, threads: 1, contextSize: 100 })).toThrow(/multiple of 256/)
    expect(() => new TrainingRun({ libDir, modelPath, threads: 1, contextSize: CONTEXT, targets: ['attn_q.weight', 'no_such_proj'] })).toThrow(/matches \["no_such_proj"\]/)
    expect(() => new TrainingRun({ libDir, modelPath, threads: 1, contextSize: CONTEXT, targets: ['token_embd'] })).toThrow(/token_embd and rope_freqs never train/)
    const run = newRun()
    try {
      expect(() => run.epoch({ learningRate: 1e-3 })).toThrow(/set a dataset/)
      expect(() => run.dataset([new Int32Array(CONTEXT)])).toThrow(/needs contextSize \+ 1 = 257/)
      run.dataset(sentenceWindows(run))
      expect(() => run.epoch({ learningRate: 0 })).toThrow(/learningRate/)
      expect(() => run.epoch({ learningRate: () => Number.NaN })).toThrow(/learningRate/)
      expect(() => run.epoch({ learningRate: 1e-3, evalSplit: 1 })).toThrow(/evalSplit/)
    } finally {
      run.dispose()
    }
    expect(() => run.dataset([])).toThrow(/disposed/)
  })
})
