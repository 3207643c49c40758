import { resolveLlamaLibrary } from '@cy/adapter-llama'
import type { OutputChunk, WorkerSink } from '@cy/core'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GenerateArgs } from '../../packages/adapter-llama/src/engine/generate-args.ts'
import { LlamaEngine } from '../../packages/adapter-llama/src/engine/llama-engine.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'

/**
 * A test double for the Worker's output sink (the boundary to the main thread): it records chunks and
 * reports the client as gone once `leaveAfter` deltas have been sent.
 */
function sink(leaveAfter = Infinity): WorkerSink & { chunks: OutputChunk[] } {
  const chunks: OutputChunk[] = []
  const deltas = () => chunks.filter((c) => c.type === 'text-delta').length
  return {
    chunks,
    signal: new AbortController().signal,
    get aborted() {
      return deltas() >= leaveAfter
    },
    abortFlag: new Int32Array(1),
    push: (chunk) => (chunks.push(chunk), true),
    ready: () => Promise.resolve(),
  }
}

const greedy = (prompt: string, maxTokens?: number): GenerateArgs => ({
  prompt,
  maxTokens,
  temperature: 0,
  topP: undefined,
  topK: undefined,
  minP: undefined,
  repeatPenalty: undefined,
  presencePenalty: undefined,
  frequencyPenalty: undefined,
  seed: undefined,
  stop: [],
  logitBias: undefined,
  grammar: undefined,
})

let dir: string
let engine: LlamaEngine

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-llama-engine-'))
  const modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
  const { dir: libDir } = await resolveLlamaLibrary(undefined)
  engine = new LlamaEngine({
    libDir,
    modelPath,
    contextSize: 2048,
    batchSize: 512,
    parallel: 2,
    threads: 2,
    gpuLayers: 0,
    flashAttention: 'auto',
    embeddings: false,
    pooling: 'mean',
  })
})
afterAll(async () => {
  await engine?.dispose()
  await rm(dir, { recursive: true, force: true })
})

describe('the batch scheduler', () => {
  test('a client that leaves stops its sequence within a step and frees its slot', async () => {
    const out = sink(3)
    // Unlimited: alone it would run to the end of its 2,048-token context.
    const result = await engine.generate(greedy('go on and on'), out)
    expect(result.finishReason).toBe('cancelled')
    expect(result.completionTokens).toBeLessThanOrEqual(4)
    expect(engine.scheduler.active).toBe(0)
  })

  test('sequences that join while others run get the same tokens as alone', async () => {
    const alone = sink()
    await engine.generate(greedy('joining late', 16), alone)
    const early = sink()
    const running = engine.generate(greedy('already running', 64), early)
    // Join after the first sequence has produced some tokens.
    while (early.chunks.length < 5) await Bun.sleep(1)
    const late = sink()
    await engine.generate(greedy('joining late', 16), late)
    await running
    const text = (s: ReturnType<typeof sink>) => s.chunks.flatMap((c) => (c.type === 'text-delta' ? [c.text] : [])).join('')
    expect(text(late)).toBe(text(alone))
    expect(engine.scheduler.active).toBe(0)
  })
})
