import { resolveLlamaLibrary } from '@cy/adapter-llama'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LlamaEngine } from '../../packages/adapter-llama/src/engine/llama-engine.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { greedyArgs, recordingSink } from './engine-doubles.ts'

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
    const out = recordingSink(3)
    // Unlimited: alone it would run to the end of its 2,048-token context.
    const result = await engine.generate(greedyArgs({ prompt: 'go on and on' }), out)
    expect(result.finishReason).toBe('cancelled')
    expect(result.completionTokens).toBeLessThanOrEqual(4)
    expect(engine.scheduler.active).toBe(0)
  })

  test('sequences that join while others run get the same tokens as alone', async () => {
    const alone = recordingSink()
    await engine.generate(greedyArgs({ prompt: 'joining late', maxTokens: 16 }), alone)
    const early = recordingSink()
    const running = engine.generate(greedyArgs({ prompt: 'already running', maxTokens: 64 }), early)
    // Join after the first sequence has produced some tokens.
    while (early.chunks.length < 5) await Bun.sleep(1)
    const late = recordingSink()
    await engine.generate(greedyArgs({ prompt: 'joining late', maxTokens: 16 }), late)
    await running
    expect(late.text()).toBe(alone.text())
    expect(engine.scheduler.active).toBe(0)
  })
})
