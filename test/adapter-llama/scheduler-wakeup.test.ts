import { resolveLlamaLibrary } from '@cy/adapter-llama'
import type { OutputChunk, WorkerSink } from '@cy/core'
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LlamaEngine } from '../../packages/adapter-llama/src/engine/llama-engine.ts'
import { writeTinyLlama } from '../fixtures/llama/tiny-llama.ts'
import { chunksArrived, greedyArgs, recordingSink } from './engine-doubles.ts'

let dir: string
let engine: LlamaEngine

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-llama-wakeup-'))
  const modelPath = await writeTinyLlama(join(dir, 'tiny.gguf'))
  const { dir: libDir } = await resolveLlamaLibrary(undefined)
  engine = new LlamaEngine({ libDir, modelPath, contextSize: 512, batchSize: 512, parallel: 2, threads: 1, gpuLayers: 0, flashAttention: 'auto', embeddings: false, pooling: 'mean' })
})
afterAll(async () => {
  await engine?.dispose()
  await rm(dir, { recursive: true, force: true })
})

/**
 * A test double for the Worker's output sink (the boundary to the main thread): its reader falls behind
 * after `behindAfter` chunks until `catchUp()`. It counts how often the scheduler looks at it (`aborted`).
 */
function laggingSink(behindAfter: number): WorkerSink & { chunks: OutputChunk[]; looks(): number; catchUp(): void } {
  const chunks: OutputChunk[] = []
  let looks = 0
  let caughtUp = false
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  return {
    chunks,
    looks: () => looks,
    catchUp: () => ((caughtUp = true), release()),
    signal: new AbortController().signal,
    get aborted() {
      looks++
      return false
    },
    abortFlag: new Int32Array(1),
    push: (chunk) => (chunks.push(chunk), caughtUp || chunks.length < behindAfter),
    ready: () => (caughtUp ? Promise.resolve() : gate),
  }
}

test('a scheduler whose only stream waits for its reader sleeps (no polling) and wakes for new work and for the reader', async () => {
  const out = laggingSink(4)
  const first = engine.generate(greedyArgs({ prompt: 'Hello', maxTokens: 12 }), out)
  await chunksArrived(out, 4)
  // Let the step that paused it finish.
  await new Promise((resolve) => setImmediate(resolve))
  const looks = out.looks()
  // A polling loop would look at the sink every millisecond or so meanwhile.
  await Bun.sleep(100)
  expect(out.looks() - looks).toBe(0)
  // A new request is not held up by the paused one: submitting wakes the scheduler.
  const second = await engine.generate(greedyArgs({ prompt: 'Other', maxTokens: 3 }), recordingSink())
  expect(second.completionTokens).toBe(3)
  // The reader catching up wakes it too, and the stream runs to its end.
  out.catchUp()
  expect((await first).completionTokens).toBe(12)
})
