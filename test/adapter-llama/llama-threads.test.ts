import { resolveLlamaLibrary } from '@cy/adapter-llama'
import { expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { LlamaEngine } from '../../packages/adapter-llama/src/engine/llama-engine.ts'
import { parseLlamaOptions } from '../../packages/adapter-llama/src/llama-options.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { greedyArgs, recordingSink } from './engine-doubles.ts'

test('threads defaults to half the cores (at least one), leaving room for other load', () => {
  expect(parseLlamaOptions({}).threads).toBe(Math.max(1, Math.floor(availableParallelism() / 2)))
  expect(parseLlamaOptions({ threads: 3 }).threads).toBe(3)
})

test('with two threads (a threadpool of its own, asleep between decodes) the tokens are those of one thread, and unloading frees it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cy-llama-threads-'))
  try {
    const modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
    const { dir: libDir } = await resolveLlamaLibrary(undefined)
    const texts: string[] = []
    for (const threads of [1, 2]) {
      const engine = new LlamaEngine({ libDir, modelPath, contextSize: 256, batchSize: 256, parallel: 2, threads, gpuLayers: 0, flashAttention: 'auto', embeddings: false, pooling: 'mean' })
      try {
        const outs = [recordingSink(), recordingSink()]
        await Promise.all(outs.map((out, i) => engine.generate(greedyArgs({ prompt: `stream ${i}`, maxTokens: 6 }), out)))
        texts.push(outs.map((out) => out.text()).join('|'))
      } finally {
        await engine.dispose()
      }
    }
    expect(texts[0]!.length).toBeGreaterThan(6)
    expect(texts[1]).toBe(texts[0])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  // Two threads on a busy two-core machine are slow: the very collapse the default avoids.
}, 30_000)
