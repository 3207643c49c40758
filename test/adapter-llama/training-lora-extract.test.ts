import { resolveLlamaLibrary } from '@cy/adapter-llama'
import { encodeGguf, readGguf, withFile, type MetadataValue } from '../../packages/native/src/index.ts'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { extractLora } from '../../packages/adapter-llama/src/training/extract-lora.ts'
import { LoraExtractionError } from '../../packages/adapter-llama/src/training/lora-extraction-error.ts'
import { seededRandom } from '../fixtures/seeded-random.ts'
import { tinyLlama, writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { chatmlPrompt, referenceGreedy } from './reference-greedy.ts'

const dir = mkdtempSync(join(tmpdir(), 'cy-lora-extract-'))
const basePath = join(dir, 'base.gguf')
const trainedPath = join(dir, 'trained.gguf')
let libDir: string

// The "fine-tune": these tensors move by an exact rank-4 delta, everything else stays. The token embedding and the
// output matrix are in it because llama.cpp reads a LoRA of the embedding the other way round.
const TRAINED = ['blk.0.attn_q.weight', 'blk.0.attn_v.weight', 'blk.1.ffn_up.weight', 'blk.1.ffn_down.weight', 'token_embd.weight', 'output.weight']
const DELTA_RANK = 4
const PROMPT = 'Once upon a time'
const CHAT = chatmlPrompt([{ role: 'user', content: 'hello' }])
const TOKENS = 12

/** A rank-`rank` rows×cols delta P·Q, each entry about `size`. */
function lowRankDelta(rows: number, cols: number, rank: number, size: number, seed: number): Float64Array {
  const next = seededRandom(seed)
  const p = Float64Array.from({ length: rows * rank }, () => next() * 2 - 1)
  const q = Float64Array.from({ length: rank * cols }, () => ((next() * 2 - 1) * 3 * size) / Math.sqrt(rank))
  const out = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++) for (let c = 0; c < rank; c++) for (let j = 0; j < cols; j++) out[i * cols + j]! += p[i * rank + c]! * q[c * cols + j]!
  return out
}

/** A copy of the base file whose `names` (f32) get a low-rank delta added in place. */
async function writeTrained(path: string, names: readonly string[], seed: number): Promise<void> {
  const bytes = Uint8Array.from(tinyLlama())
  const index = await withFile(basePath, readGguf)
  names.forEach((name, n) => {
    const tensor = index.tensors.find((t) => t.name === name)!
    const [rows, cols] = tensor.shape as [number, number]
    const values = new Float32Array(bytes.buffer, index.dataOffsets!.get(name)!, rows * cols)
    // About a third of the weights' own size (the embedding's are 0.5, the matrices' ~0.06): greedy text changes.
    const size = name === 'token_embd.weight' || name === 'output.weight' ? 0.3 : 0.04
    const delta = lowRankDelta(rows, cols, DELTA_RANK, size, seed + n)
    for (let i = 0; i < values.length; i++) values[i] = values[i]! + delta[i]!
  })
  await writeFile(path, bytes)
}

beforeAll(async () => {
  libDir = (await resolveLlamaLibrary(undefined)).dir
  await writeTinyLlama(basePath)
  await writeTrained(trainedPath, TRAINED, 100)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const greedy = (model: string, prompt: string, lora?: string) =>
  referenceGreedy(libDir, model, prompt, TOKENS, { loras: lora ? [{ path: lora, scale: 1 }] : [], threads: 1 })

describe('extractLora: a fine-tune’s change as a LoRA adapter llama.cpp loads', () => {
  test('an exact rank-4 change extracts at rank 4 with no error, and base + adapter writes the trained model’s greedy text', async () => {
    const output = join(dir, 'rank4.gguf')
    const result = await extractLora({ base: basePath, trained: trainedPath, rank: 4, alpha: 8, output })
    expect(result.tensors.map((t) => t.name).sort()).toEqual([...TRAINED].sort())
    for (const tensor of result.tensors) {
      expect(tensor.rank).toBe(4)
      expect(tensor.relativeError).toBeLessThan(1e-4)
    }
    expect(result.maxRelativeError).toBe(Math.max(...result.tensors.map((t) => t.relativeError)))
    expect(result.skipped).toEqual([])

    for (const prompt of [PROMPT, CHAT]) {
      const trained = greedy(trainedPath, prompt)
      expect(trained).toHaveLength(TOKENS)
      expect(trained).not.toBe(greedy(basePath, prompt))
      expect(greedy(basePath, prompt, output)).toBe(trained)
    }
  })

  test('writes llama.cpp’s adapter keys and only the changed tensors, each pair in the shapes llama.cpp checks', async () => {
    const output = join(dir, 'layout.gguf')
    await extractLora({ base: basePath, trained: trainedPath, rank: 4, alpha: 16, output, name: 'my-adapter' })
    const adapter = await withFile(output, readGguf)
    expect(adapter.metadata).toEqual({ 'general.architecture': 'llama', 'general.type': 'adapter', 'general.name': 'my-adapter', 'adapter.type': 'lora' })
    const base = await withFile(basePath, readGguf)
    const expected = TRAINED.flatMap((name) => {
      const [rows, cols] = base.tensors.find((t) => t.name === name)!.shape as [number, number]
      // PyTorch order (TensorInfo's): A is [r, in] and B [out, r]; the embedding's pair is [tokens, r] and [embedding, r].
      return name === 'token_embd.weight'
        ? [[`${name}.lora_a`, [rows, 4]], [`${name}.lora_b`, [cols, 4]]]
        : [[`${name}.lora_a`, [4, cols]], [`${name}.lora_b`, [rows, 4]]]
    })
    expect(adapter.tensors.map((t) => [t.name, t.shape]).sort()).toEqual(expected.sort() as never)
    expect(adapter.tensors.every((t) => t.dtype === '0')).toBe(true)
  })

  test('at rank 2 a rank-4 change keeps an error, reported per tensor, and llama.cpp still loads it', async () => {
    const output = join(dir, 'rank2.gguf')
    const result = await extractLora({ base: basePath, trained: trainedPath, rank: 2, alpha: 2, output })
    expect(result.tensors).toHaveLength(TRAINED.length)
    for (const tensor of result.tensors) {
      expect(tensor.rank).toBe(2)
      expect(tensor.relativeError).toBeGreaterThan(0.05)
      expect(tensor.relativeError).toBeLessThan(1)
    }
    expect(result.maxRelativeError).toBeGreaterThan(0.05)
    expect(greedy(basePath, PROMPT, output)).toHaveLength(TOKENS)
  })

  test('targets pick tensors by name; a target that matches nothing is refused', async () => {
    const output = join(dir, 'targets.gguf')
    const result = await extractLora({ base: basePath, trained: trainedPath, targets: ['attn_q', 'attn_k', 'ffn_down'], rank: 4, alpha: 4, output })
    // attn_k matches tensors but none changed: it is not in the adapter, and the result says so.
    expect(result.tensors.map((t) => t.name)).toEqual(['blk.0.attn_q.weight', 'blk.1.ffn_down.weight'])
    expect(result.skipped.map((t) => t.name).sort()).toEqual(['blk.0.attn_k.weight', 'blk.0.ffn_down.weight', 'blk.1.attn_k.weight', 'blk.1.attn_q.weight'])
    expect(result.skipped[0]!.reason).toStartWith('unchanged by training')
    expect((await withFile(output, readGguf)).tensors.map((t) => t.name)).toEqual([
      'blk.0.attn_q.weight.lora_a', 'blk.0.attn_q.weight.lora_b', 'blk.1.ffn_down.weight.lora_a', 'blk.1.ffn_down.weight.lora_b',
    ])
    await expect(extractLora({ base: basePath, trained: trainedPath, targets: ['attn_qkv'], rank: 4, alpha: 4, output })).rejects.toThrow(
      'no tensor of the base model matches the target(s) attn_qkv',
    )
  })

  test('a changed norm is reported as skipped, not put in the adapter', async () => {
    const path = join(dir, 'norm-changed.gguf')
    const bytes = Uint8Array.from(tinyLlama())
    const index = await withFile(basePath, readGguf)
    new Float32Array(bytes.buffer, index.dataOffsets!.get('blk.0.attn_norm.weight')!, 64).fill(1.5)
    await writeFile(path, bytes)
    await expect(extractLora({ base: basePath, trained: path, rank: 4, alpha: 4, output: join(dir, 'none.gguf') })).rejects.toThrow(/no matrix differs/)
    await writeTrained(path, ['blk.0.attn_q.weight'], 7)
    const withNorm = Uint8Array.from(await Bun.file(path).bytes())
    new Float32Array(withNorm.buffer, index.dataOffsets!.get('blk.0.attn_norm.weight')!, 64).fill(1.5)
    await writeFile(path, withNorm)
    const result = await extractLora({ base: basePath, trained: path, rank: 4, alpha: 4, output: join(dir, 'norm.gguf') })
    expect(result.tensors.map((t) => t.name)).toEqual(['blk.0.attn_q.weight'])
    expect(result.skipped).toEqual([{ name: 'blk.0.attn_norm.weight', reason: 'not a matrix (1-D): a LoRA adapter holds 2-D tensors only' }])
  })

  test('a tied token embedding (no output.weight) is skipped with the reason, since llama.cpp would apply it twice', async () => {
    const meta: Record<string, MetadataValue> = { 'general.architecture': { type: 'string', value: 'llama' } }
    const write = async (name: string, shift: number) => {
      const tensors = ['token_embd.weight', 'blk.0.attn_q.weight'].map((tensor) => ({ name: tensor, dims: [16, 8], data: Float32Array.from({ length: 128 }, (_, i) => Math.sin(i) + (i % 9 === 0 ? shift : 0)) }))
      await writeFile(join(dir, name), encodeGguf(meta, tensors))
      return join(dir, name)
    }
    const result = await extractLora({ base: await write('tied-base.gguf', 0), trained: await write('tied-trained.gguf', 1), rank: 2, alpha: 2, output: join(dir, 'tied.gguf') })
    expect(result.tensors.map((t) => t.name)).toEqual(['blk.0.attn_q.weight'])
    expect(result.skipped).toEqual([{ name: 'token_embd.weight', reason: expect.stringContaining('doubles as the output matrix') }])
  })

  test('f16 tensors are read too', async () => {
    // Values k/16 with small integers k are exact in f16, so the change is exactly rank 3.
    const next = seededRandom(5)
    const int = (range: number) => Math.floor(next() * (2 * range + 1)) - range
    const [rows, cols, rank] = [24, 40, 3]
    const before = Float32Array.from({ length: rows * cols }, () => int(8) / 16)
    const p = Array.from({ length: rows * rank }, () => int(2))
    const q = Array.from({ length: rank * cols }, () => int(2))
    const after = before.map((value, at) => {
      const [i, j] = [Math.floor(at / cols), at % cols]
      let sum = 0
      for (let c = 0; c < rank; c++) sum += p[i * rank + c]! * q[c * cols + j]!
      return value + sum / 16
    })
    const meta: Record<string, MetadataValue> = { 'general.architecture': { type: 'string', value: 'llama' } }
    const file = (name: string, data: Float32Array) => {
      const path = join(dir, name)
      return writeFile(path, encodeGguf(meta, [{ name: 'blk.0.attn_q.weight', dims: [cols, rows], data, type: 'f16' }])).then(() => path)
    }
    const result = await extractLora({ base: await file('f16-base.gguf', before), trained: await file('f16-trained.gguf', after), rank: 3, alpha: 3, output: join(dir, 'f16-lora.gguf') })
    expect(result.tensors).toEqual([{ name: 'blk.0.attn_q.weight', rank: 3, relativeError: expect.any(Number) }])
    expect(result.maxRelativeError).toBeLessThan(1e-6)
  })

  test('a quantized model is refused clearly, and so are a bad rank or alpha', async () => {
    const quantized = await writeTinyLlama(join(dir, 'q8.gguf'), { quantize: true })
    const output = join(dir, 'refused.gguf')
    await expect(extractLora({ base: quantized, trained: trainedPath, rank: 4, alpha: 4, output })).rejects.toThrow(
      /'token_embd.weight' in .*q8\.gguf is q8_0 \(quantized\): LoRA extraction reads f32, f16 and bf16 tensors only/,
    )
    await expect(extractLora({ base: basePath, trained: trainedPath, rank: 0, alpha: 4, output })).rejects.toThrow(LoraExtractionError)
    await expect(extractLora({ base: basePath, trained: trainedPath, rank: 4, alpha: -1, output })).rejects.toThrow('alpha must be a positive number, got -1')
    await expect(extractLora({ base: basePath, trained: basePath, rank: 4, alpha: 4, output })).rejects.toThrow(/no matrix differs/)
    expect(await Bun.file(output).exists()).toBe(false)
  })
})
